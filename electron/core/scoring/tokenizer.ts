import { readFile } from 'node:fs/promises';
import { Tokenizer } from '@huggingface/tokenizers';
import { StudioError } from '../../../shared/errors';

const START = '<|startoftext|>';
const END = '<|endoftext|>';
/** Distinct words remembered; a prompt set rarely has more. */
const WORD_CACHE_SIZE = 100_000;

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
 * Characters of one pre-token that BPE may merge across and still change the first tokens: the
 * part of a cut word beyond what the first tokens can cover (see wordBounds). BPE's merges are
 * local in practice (the tests check long words against whole-word BPE); a merge chain reaching
 * back this far would take a vocabulary built for it.
 */
const MERGE_REACH = 2400;
/** How much NFC can shorten text: a Hangul syllable composed of three jamo. */
const NFC_SHRINK = 3;

/**
 * How much of a long word (a run of non-whitespace) the tokenizer reads: `raw` UTF-16 units of
 * the text, then `normalised` units after normalisation. A token is at most `longestToken`
 * UTF-8 bytes, so `contentLength` tokens cover at most contentLength x longestToken characters
 * of a word; what lies MERGE_REACH beyond them cannot reach back into them (see MERGE_REACH).
 * The raw cut leaves at least that much after NFC, and the normalised one bounds what BPE
 * gets, so a 10 MB caption without a space costs no more than a long word.
 */
function wordBounds(
  contentLength: number,
  longestToken: number,
): { raw: number; normalised: number } {
  const normalised = contentLength * longestToken + MERGE_REACH;
  return { raw: normalised * NFC_SHRINK, normalised };
}

/** `text` cut to at most `units` UTF-16 units, never between the two halves of a surrogate pair. */
function cutAt(text: string, units: number): string {
  if (text.length <= units) return text;
  const last = text.charCodeAt(units - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? units - 1 : units);
}

/**
 * A text's content ids, without <|startoftext|> and <|endoftext|>, truncated to `contentLength`.
 *
 * The pipeline is run piece by piece rather than through Tokenizer.encode, which differs from
 * the Rust tokenizer in two ways: it gives a whole text that normalises to "<|endoftext|>"
 * (say "<|ENDOFTEXT|>") the special id where Rust runs BPE on it, and its Lowercase uses
 * String.toLowerCase, whose final-sigma rule turns a word-final "Σ" into "ς" where Rust's
 * char-by-char lowercasing gives "σ". Mapping Σ to σ first is exact: σ is its only lowercase.
 *
 * Only words are read, one at a time, until the content is full. The normaliser turns each run
 * of Unicode White_Space (tokenizers.js's \s, and the words' regex's) into one space and no
 * pre-token spans a space, so each word tokenizes on its own (NFC composes nothing across
 * whitespace, nor makes any). Every word gives at least one id, so the words after the first `contentLength` are never read, and a
 * long word is cut (wordBounds). Caching words is what makes encoding fast: tokenizers.js's
 * own BPE cache costs about 0.4 ms a prompt, mostly in its LRU bookkeeping.
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
  // A byte-level token spells each byte it stands for with one character.
  let longestToken = 1;
  for (const token of model.tokens_to_ids.keys()) {
    longestToken = Math.max(longestToken, token.replace(/<\/w>$/, '').length);
  }
  const bounds = wordBounds(contentLength, longestToken);
  const wordCache = new Map<string, number[]>();
  const normalisedWordIds = (word: string): number[] => {
    let ids = wordCache.get(word);
    if (ids === undefined) {
      ids = model(preTokenizer(word)).map((t) => model.tokens_to_ids.get(t) ?? model.unk_token_id!);
      if (wordCache.size >= WORD_CACHE_SIZE) wordCache.clear();
      wordCache.set(word, ids);
    }
    return ids;
  };
  const wordIds = (word: string, ids: number[]): void => {
    for (const piece of word.split(addedSplitter)) {
      const addedId = addedIds.get(piece);
      if (addedId !== undefined) {
        ids.push(addedId);
        continue;
      }
      ids.push(
        ...normalisedWordIds(
          cutAt(normalizer(piece.replaceAll('\u03a3', '\u03c3')), bounds.normalised),
        ),
      );
    }
  };

  return (text) => {
    const ids: number[] = [];
    for (const [word] of text.matchAll(/\P{White_Space}+/gu)) {
      if (ids.length >= contentLength) break;
      wordIds(cutAt(word, bounds.raw), ids);
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
