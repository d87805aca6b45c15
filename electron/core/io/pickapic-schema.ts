/**
 * The Hugging Face yuvalkirstain/pickapic_v1 / _v2 columns, in the dataset's order. `kind` is the
 * Arrow type the dataset uses; every column is nullable, as Arrow writes them.
 */
export const PICKAPIC_COLUMNS = [
  { name: 'are_different', kind: 'bool' },
  { name: 'best_image_uid', kind: 'string' },
  { name: 'caption', kind: 'string' },
  { name: 'created_at', kind: 'timestamp' },
  { name: 'has_label', kind: 'bool' },
  { name: 'image_0_uid', kind: 'string' },
  { name: 'image_0_url', kind: 'string' },
  { name: 'image_1_uid', kind: 'string' },
  { name: 'image_1_url', kind: 'string' },
  { name: 'jpg_0', kind: 'binary' },
  { name: 'jpg_1', kind: 'binary' },
  { name: 'label_0', kind: 'float64' },
  { name: 'label_1', kind: 'float64' },
  { name: 'model_0', kind: 'string' },
  { name: 'model_1', kind: 'string' },
  { name: 'num_example_per_prompt', kind: 'int64' },
  { name: 'ranking_id', kind: 'int64' },
  { name: 'user_id', kind: 'int64' },
] as const satisfies readonly { name: string; kind: ColumnKind }[];

export type ColumnKind = 'bool' | 'string' | 'timestamp' | 'binary' | 'float64' | 'int64';
export type PickapicColumn = (typeof PICKAPIC_COLUMNS)[number]['name'];

/** The `_no_images` variant drops these two; everything else is required on import. */
export const IMAGE_COLUMNS = ['jpg_0', 'jpg_1'] as const;

/** Physical Parquet types accepted on import for each kind (writers differ in widths). */
export const ACCEPTED_PHYSICAL: Record<ColumnKind, readonly string[]> = {
  bool: ['BOOLEAN'],
  string: ['BYTE_ARRAY'],
  binary: ['BYTE_ARRAY'],
  float64: ['DOUBLE', 'FLOAT'],
  int64: ['INT64', 'INT32'],
  timestamp: ['INT64', 'INT96'],
};

/**
 * What is wrong with the types of those `expected` columns the file has, as "x is INT32, expected
 * string"; an absent column is the caller's to name.
 */
export function wrongColumnTypes(
  present: ReadonlyMap<string, { type?: string }>,
  expected: readonly { name: string; kind: ColumnKind }[],
): string[] {
  return expected.flatMap(({ name, kind }) => {
    const element = present.get(name);
    if (!element || ACCEPTED_PHYSICAL[kind].includes(element.type ?? 'group')) return [];
    return [`${name} is ${element.type ?? 'a group'}, expected ${kind}`];
  });
}
