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

/**
 * Loads a Hugging Face tokenizer.json holding CLIP's BPE and encodes prompts as transformers'
 * CLIPTokenizer does with padding="max_length", truncation=True, max_length=77.
 */
export async function loadClipTokenizer(
  tokenizerJsonPath: string,
  maxLength = 77,
): Promise<ClipTokenizer> {
  let text: string;
  try {
    text = await readFile(tokenizerJsonPath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new StudioError('not_found', `CLIP tokenizer not found: ${tokenizerJsonPath}`);
    }
    throw error;
  }
  const notClip = (why: string, cause?: unknown): StudioError =>
    new StudioError('bad_input', `${tokenizerJsonPath} is not a CLIP BPE tokenizer: ${why}`, {
      cause,
    });

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
  // Added tokens are cut out of the raw text below, before normalisation; that is what the Rust
  // tokenizer does only for tokens with these flags off, which CLIP's all have.
  const unusual = added.find((t) => t.normalized || t.lstrip || t.rstrip || t.single_word);
  if (unusual) throw notClip(`added token ${unusual.content} is normalised or strips spaces`);

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
  // Encoding below splits normalised text at spaces, which is exact only because CLIP's
  // normaliser leaves no whitespace but single spaces.
  if (normalizer('A\t\n  B') !== 'a b') {
    throw notClip('its normalizer does not lowercase and collapse whitespace');
  }

  const addedIds = new Map(added.map((t) => [t.content, t.id]));
  const startId = addedIds.get(START)!;
  const endId = addedIds.get(END)!;
  const specials = post([], null, true).tokens;
  if (specials.join() !== [START, END].join()) {
    throw notClip(`its post-processor adds [${specials.join(', ')}], not [${START}, ${END}]`);
  }
  const contentLength = maxLength - specials.length;
  if (contentLength < 0) throw new RangeError(`maxLength ${maxLength} leaves no room for content`);

  const addedSplitter = new RegExp(
    `(${[...addedIds.keys()]
      .sort((a, b) => b.length - a.length)
      .map(escapeRegExp)
      .join('|')})`,
  );

  // The pipeline is run piece by piece rather than through Tokenizer.encode, which differs from
  // the Rust tokenizer in two ways: it gives a whole text that normalises to "<|endoftext|>"
  // (say "<|ENDOFTEXT|>") the special id where Rust runs BPE on it, and its Lowercase uses
  // String.toLowerCase, whose final-sigma rule turns a word-final "Σ" into "ς" where Rust's
  // char-by-char lowercasing gives "σ". Mapping Σ to σ first is exact: σ is its only lowercase.
  //
  // Normalised text has single spaces for whitespace and no pre-token spans a space, so each
  // space-separated chunk tokenizes on its own. Caching chunks is what makes encoding fast:
  // tokenizers.js's own BPE cache costs about 0.4 ms a prompt, mostly in its LRU bookkeeping.
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

  const contentIds = (text: string): number[] => {
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

  const encodeOne = (text: string): number[] => [startId, ...contentIds(text), endId];

  return {
    maxLength,
    encodeOne,
    encode(texts) {
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
    },
  };
}
