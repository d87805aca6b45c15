import { readFile } from 'node:fs/promises';
import { Tokenizer } from '@huggingface/tokenizers';
import { StudioError } from '../../../shared/errors';

const START = '<|startoftext|>';
const END = '<|endoftext|>';
/** Distinct space-separated chunks remembered; a prompt set rarely has more. */
const CHUNK_CACHE_SIZE = 100_000;

/** Row-major [batch, length] int64 tensors, as the ONNX text encoder takes them. */
export interface EncodedTexts {
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  batch: number;
  length: number;
}

export interface ClipTokenizer {
  readonly maxLength: number;
  /** Each text truncated to maxLength ids and padded with <|endoftext|> (attention mask 0). */
  encode(texts: readonly string[]): EncodedTexts;
  /** One text's row before padding: <|startoftext|>, the content truncated to fit, <|endoftext|>. */
  encodeOne(text: string): number[];
}

interface AddedTokenJson {
  id: number;
  content: string;
  normalized?: boolean;
  lstrip?: boolean;
  rstrip?: boolean;
  single_word?: boolean;
}

interface TokenizerJson {
  model?: { type?: string; end_of_word_suffix?: string };
  added_tokens?: AddedTokenJson[];
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The error for a file that is not a CLIP BPE tokenizer, saying why. */
type NotClip = (why: string, cause?: unknown) => StudioError;

async function readTokenizerText(tokenizerJsonPath: string): Promise<string> {
  try {
    return await readFile(tokenizerJsonPath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new StudioError('not_found', `CLIP tokenizer not found: ${tokenizerJsonPath}`);
    }
    throw error;
  }
}

/** Parses tokenizer.json and checks its BPE model and added tokens are CLIP's. */
function parseClipJson(
  text: string,
  notClip: NotClip,
): { json: TokenizerJson; added: AddedTokenJson[] } {
  let json: TokenizerJson;
  try {
    json = JSON.parse(text) as TokenizerJson;
  } catch (error) {
    throw notClip('not valid JSON', error);
  }
  if (json.model?.type !== 'BPE') throw notClip(`model type is ${json.model?.type}, not BPE`);
  if (json.model.end_of_word_suffix !== '</w>') throw notClip('its BPE does not mark word ends');
  const added = json.added_tokens ?? [];
  for (const name of [START, END]) {
    if (!added.some((t) => t.content === name)) throw notClip(`no ${name} token`);
  }
  // contentEncoder cuts added tokens out of the raw text, before normalisation; that is what the
  // Rust tokenizer does only for tokens with these flags off, which CLIP's all have.
  const unusual = added.find((t) => t.normalized || t.lstrip || t.rstrip || t.single_word);
  if (unusual) throw notClip(`added token ${unusual.content} is normalised or strips spaces`);
  return { json, added };
}

/** The tokenizer's pipeline steps, checked to be what contentEncoder relies on. */
function clipPipeline(json: TokenizerJson, notClip: NotClip) {
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(json, {});
  } catch (error) {
    throw notClip((error as Error).message, error);
  }
  const { normalizer, pre_tokenizer: preTokenizer, model, post_processor: post } = tokenizer;
  if (!normalizer || !preTokenizer || !model || !post) {
    throw notClip('it lacks a normalizer, pre-tokenizer or post-processor');
  }
  // contentEncoder splits normalised text at spaces, which is exact only because CLIP's
  // normaliser leaves no whitespace but single spaces.
  if (normalizer('A\t\n  B') !== 'a b') {
    throw notClip('its normalizer does not lowercase and collapse whitespace');
  }
  return { normalizer, preTokenizer, model, post };
}

type Pipeline = ReturnType<typeof clipPipeline>;

/**
 * A text's content ids, without <|startoftext|> and <|endoftext|>, truncated to `contentLength`.
 *
 * The pipeline is run piece by piece rather than through Tokenizer.encode, which differs from
 * the Rust tokenizer in two ways: it gives a whole text that normalises to "<|endoftext|>"
 * (say "<|ENDOFTEXT|>") the special id where Rust runs BPE on it, and its Lowercase uses
 * String.toLowerCase, whose final-sigma rule turns a word-final "Σ" into "ς" where Rust's
 * char-by-char lowercasing gives "σ". Mapping Σ to σ first is exact: σ is its only lowercase.
 *
 * Normalised text has single spaces for whitespace and no pre-token spans a space, so each
 * space-separated chunk tokenizes on its own. Caching chunks is what makes encoding fast:
 * tokenizers.js's own BPE cache costs about 0.4 ms a prompt, mostly in its LRU bookkeeping.
 */
function contentEncoder(
  { normalizer, preTokenizer, model }: Pipeline,
  addedIds: Map<string, number>,
  contentLength: number,
): (text: string) => number[] {
  const addedSplitter = new RegExp(
    `(${[...addedIds.keys()]
      .sort((a, b) => b.length - a.length)
      .map(escapeRegExp)
      .join('|')})`,
  );
  const chunkCache = new Map<string, number[]>();
  const chunkIds = (chunk: string): number[] => {
    let ids = chunkCache.get(chunk);
    if (ids === undefined) {
      ids = model(preTokenizer(chunk)).map(
        (t) => model.tokens_to_ids.get(t) ?? model.unk_token_id!,
      );
      if (chunkCache.size >= CHUNK_CACHE_SIZE) chunkCache.clear();
      chunkCache.set(chunk, ids);
    }
    return ids;
  };

  return (text) => {
    const ids: number[] = [];
    for (const piece of text.split(addedSplitter)) {
      const addedId = addedIds.get(piece);
      if (addedId !== undefined) {
        ids.push(addedId);
        continue;
      }
      for (const chunk of normalizer(piece.replaceAll('\u03a3', '\u03c3')).split(' ')) {
        if (ids.length >= contentLength) return ids.slice(0, contentLength);
        ids.push(...chunkIds(chunk));
      }
    }
    return ids.slice(0, contentLength);
  };
}

/** Rows of `encodeOne`'s ids padded with `endId` to `maxLength`, the padding masked out. */
function encodeBatch(
  texts: readonly string[],
  maxLength: number,
  endId: number,
  encodeOne: (text: string) => number[],
): EncodedTexts {
  const batch = texts.length;
  const inputIds = new BigInt64Array(batch * maxLength).fill(BigInt(endId));
  const attentionMask = new BigInt64Array(batch * maxLength);
  texts.forEach((text, row) => {
    const ids = encodeOne(text);
    const offset = row * maxLength;
    for (let i = 0; i < ids.length; i++) inputIds[offset + i] = BigInt(ids[i]!);
    attentionMask.fill(1n, offset, offset + ids.length);
  });
  return { inputIds, attentionMask, batch, length: maxLength };
}

/**
 * Loads a Hugging Face tokenizer.json holding CLIP's BPE and encodes prompts as transformers'
 * CLIPTokenizer does with padding="max_length", truncation=True, max_length=77.
 */
export async function loadClipTokenizer(
  tokenizerJsonPath: string,
  maxLength = 77,
): Promise<ClipTokenizer> {
  const text = await readTokenizerText(tokenizerJsonPath);
  const notClip: NotClip = (why, cause) =>
    new StudioError('bad_input', `${tokenizerJsonPath} is not a CLIP BPE tokenizer: ${why}`, {
      cause,
    });
  const { json, added } = parseClipJson(text, notClip);
  const pipeline = clipPipeline(json, notClip);

  const addedIds = new Map(added.map((t) => [t.content, t.id]));
  const startId = addedIds.get(START)!;
  const endId = addedIds.get(END)!;
  const specials = pipeline.post([], null, true).tokens;
  if (specials.join() !== [START, END].join()) {
    throw notClip(`its post-processor adds [${specials.join(', ')}], not [${START}, ${END}]`);
  }
  const contentLength = maxLength - specials.length;
  if (contentLength < 0) throw new RangeError(`maxLength ${maxLength} leaves no room for content`);

  const contentIds = contentEncoder(pipeline, addedIds, contentLength);
  const encodeOne = (text: string): number[] => [startId, ...contentIds(text), endId];
  return {
    maxLength,
    encodeOne,
    encode: (texts) => encodeBatch(texts, maxLength, endId, encodeOne),
  };
}
