import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadClipTokenizer, type ClipTokenizer } from '../../electron/core/scoring/tokenizer';
import { StudioError } from '../../shared/errors';

const FIXTURES = join(import.meta.dirname, '../fixtures/clip-tokenizer');
const TOKENIZER_JSON = join(FIXTURES, 'tokenizer.json');
const START = 49406;
const END = 49407;

const tokenizerJson = JSON.parse(readFileSync(TOKENIZER_JSON, 'utf8')) as {
  model: { vocab: Record<string, number> };
  added_tokens: { content: string }[];
};
const vocab = tokenizerJson.model.vocab;
const idToToken = new Map(Object.entries(vocab).map(([token, id]) => [id, token]));
const golden = JSON.parse(readFileSync(join(FIXTURES, 'golden.json'), 'utf8')) as {
  source: string;
  cases: { text: string; ids: number[] }[];
};

/** GPT-2's byte-to-character table that byte-level BPE vocabularies are written in. */
function byteLevelAlphabet(): Map<string, number> {
  const printable = (from: string, to: string): number[] =>
    Array.from(
      { length: to.charCodeAt(0) - from.charCodeAt(0) + 1 },
      (_, i) => from.charCodeAt(0) + i,
    );
  const kept = [...printable('!', '~'), ...printable('¡', '¬'), ...printable('®', 'ÿ')];
  const charToByte = new Map(kept.map((b) => [String.fromCharCode(b), b]));
  let shifted = 256;
  for (let b = 0; b < 256; b++) {
    if (!kept.includes(b)) charToByte.set(String.fromCharCode(shifted++), b);
  }
  return charToByte;
}
const charToByte = byteLevelAlphabet();

/** Decodes content ids through the vocabulary alone, so it checks the bytes the BPE kept. */
function decode(ids: number[]): string {
  const bytes: number[] = [];
  for (const id of ids) {
    const token = idToToken.get(id)!;
    const endOfWord = token.endsWith('</w>');
    for (const char of endOfWord ? token.slice(0, -4) : token) bytes.push(charToByte.get(char)!);
    if (endOfWord) bytes.push(0x20);
  }
  return new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(bytes));
}

const word = (w: string): number => {
  const id = vocab[`${w}</w>`];
  if (id === undefined) throw new Error(`${w}</w> is not in the vocabulary`);
  return id;
};

let tokenizer: ClipTokenizer;
beforeAll(async () => {
  tokenizer = await loadClipTokenizer(TOKENIZER_JSON);
});

const row = (ids: BigInt64Array, r: number, length = 77): number[] =>
  Array.from(ids.subarray(r * length, (r + 1) * length), Number);

describe('CLIP tokenizer', () => {
  it('encodes "a photo of a cat" as PickScore does, padded with <|endoftext|> to 77', () => {
    const expected = [START, 320, 1125, 539, 320, 2368, END];
    expect(tokenizer.encodeOne('a photo of a cat')).toEqual(expected);

    const encoded = tokenizer.encode(['a photo of a cat']);
    expect(encoded.batch).toBe(1);
    expect(encoded.length).toBe(77);
    expect(encoded.inputIds).toBeInstanceOf(BigInt64Array);
    expect(encoded.attentionMask).toBeInstanceOf(BigInt64Array);
    expect(row(encoded.inputIds, 0)).toEqual([...expected, ...Array(70).fill(END)]);
    expect(row(encoded.attentionMask, 0)).toEqual([...Array(7).fill(1), ...Array(70).fill(0)]);
  });

  it('gives whole words their own vocabulary entries and the special tokens theirs', () => {
    expect([vocab['<|startoftext|>'], vocab['<|endoftext|>']]).toEqual([START, END]);
    expect(['a', 'photo', 'of', 'cat'].map(word)).toEqual([320, 1125, 539, 2368]);
    const prompt = 'an astronaut riding a horse on the moon, painting by van gogh';
    const words = prompt.replace(',', ' ,').split(' ');
    expect(tokenizer.encodeOne(prompt)).toEqual([START, ...words.map(word), END]);
  });

  it('lowercases, composes (NFC) and collapses whitespace before BPE', () => {
    const expected = tokenizer.encodeOne('a photo of a cat');
    for (const variant of [
      'A PHOTO OF A CAT',
      'A Photo of a Cat',
      '  a   photo\tof\n\na\r\ncat  ',
      'a\u00a0photo\u3000of\u2028a cat',
    ]) {
      expect(tokenizer.encodeOne(variant), JSON.stringify(variant)).toEqual(expected);
    }
    expect(tokenizer.encodeOne('CAFE\u0301')).toEqual(tokenizer.encodeOne('café'));
  });

  it('keeps accented, CJK and emoji text byte for byte', () => {
    for (const text of [
      'café naïve résumé',
      '東京タワーの写真',
      'кошка на крыше',
      '🐱 cat 👩‍👩‍👧 family 🇯🇵 ❤️ 👍🏽',
    ]) {
      const ids = tokenizer.encodeOne(text);
      const content = ids.slice(1, -1);
      expect(content.length).toBeGreaterThan(0);
      expect(content.every((id) => id < START)).toBe(true);
      expect(decode(content)).toBe(`${text} `);
    }
  });

  it('encodes an empty or blank prompt as <|startoftext|> <|endoftext|> and padding', () => {
    for (const text of ['', ' \n\t ']) {
      expect(tokenizer.encodeOne(text)).toEqual([START, END]);
      const encoded = tokenizer.encode([text]);
      expect(row(encoded.inputIds, 0)).toEqual([START, ...Array(76).fill(END)]);
      expect(row(encoded.attentionMask, 0)).toEqual([1, 1, ...Array(75).fill(0)]);
    }
  });

  it('truncates a long prompt to 77 ids, keeping <|endoftext|> last', () => {
    const words = Array.from({ length: 1000 }, (_, i) => ['red', 'fox', 'jumps'][i % 3]!);
    const ids = tokenizer.encodeOne(words.join(' '));
    expect(ids).toHaveLength(77);
    expect(ids).toEqual([START, ...words.slice(0, 75).map(word), END]);

    const encoded = tokenizer.encode([words.join(' ')]);
    expect(row(encoded.inputIds, 0)).toEqual(ids);
    expect(row(encoded.attentionMask, 0)).toEqual(Array(77).fill(1));
  });

  it('fills exactly 77 ids without truncating when the content is 75 tokens', () => {
    const ids = tokenizer.encodeOne(Array(75).fill('cat').join(' '));
    expect(ids).toEqual([START, ...Array(75).fill(word('cat')), END]);
  });

  it('lays a batch out row-major, each row its own prompt', () => {
    const prompts = ['a photo of a cat', '', 'A DOG', 'word '.repeat(200), '東京'];
    const encoded = tokenizer.encode(prompts);
    expect(encoded.batch).toBe(5);
    expect(encoded.inputIds).toHaveLength(5 * 77);
    expect(encoded.attentionMask).toHaveLength(5 * 77);
    prompts.forEach((prompt, r) => {
      const ids = tokenizer.encodeOne(prompt);
      expect(row(encoded.inputIds, r)).toEqual([...ids, ...Array(77 - ids.length).fill(END)]);
      expect(row(encoded.attentionMask, r)).toEqual(
        Array.from({ length: 77 }, (_, i) => (i < ids.length ? 1 : 0)),
      );
    });
  });

  it('encodes an empty batch as empty tensors', () => {
    const encoded = tokenizer.encode([]);
    expect(encoded.batch).toBe(0);
    expect(encoded.inputIds).toHaveLength(0);
    expect(encoded.attentionMask).toHaveLength(0);
  });

  it('honours another maxLength', async () => {
    const short = await loadClipTokenizer(TOKENIZER_JSON, 5);
    expect(short.encodeOne('a photo of a cat')).toEqual([START, 320, 1125, 539, END]);
    expect(row(short.encode(['a cat']).inputIds, 0, 5)).toEqual([START, 320, 2368, END, END]);
  });

  // Where tokenizers.js's own Tokenizer.encode parts from the Rust tokenizer.
  it('lowercases Σ to σ wherever it stands, as Rust does char by char', () => {
    expect(tokenizer.encodeOne('ΟΔΟΣ ΣΟΦΟΣ')).toEqual(tokenizer.encodeOne('οδοσ σοφοσ'));
  });

  it('treats only the exact special-token text as special', () => {
    expect(tokenizer.encodeOne('a <|endoftext|> b')).toEqual([START, 320, END, 321, END]);
    const shouted = tokenizer.encodeOne('<|ENDOFTEXT|>');
    expect(shouted).toEqual([START, 27, 347, 40786, 4160, 91, 285, END]);
    expect(decode(shouted.slice(1, -1))).toBe('<| endoftext |> ');
  });

  it(`matches ${golden.source} on ${golden.cases.length} prompts`, () => {
    const mismatches = golden.cases
      .filter(({ text, ids }) => tokenizer.encodeOne(text).join() !== ids.join())
      .map(({ text }) => JSON.stringify(text));
    expect(mismatches).toEqual([]);
  });

  describe('long captions', () => {
    // tokenizers.js's own pipeline over the whole text, with no bound: the reference for text
    // free of the two cases where it parts from Rust (see above).
    const whole = new Tokenizer(tokenizerJson, {});
    const wholeText = (text: string): number[] => {
      const ids = whole.encode(text).ids.map(Number);
      return [START, ...ids.slice(1, -1).slice(0, 75), END];
    };
    // A fixed seed, so a failure is the same on every run.
    let seed = 13;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const drawn = (length: number, alphabet: string[]): string =>
      Array.from({ length }, () => alphabet[random(alphabet.length)]).join('');

    it('reads only the words the 77 ids need, whatever the whitespace between them', () => {
      const words = golden.cases.flatMap(({ text }) => text.split(/\s+/)).filter(Boolean);
      for (let run = 0; run < 20; run++) {
        const caption = Array.from(
          { length: 2000 },
          () => words[random(words.length)]! + ' \n\t\u3000'.repeat(random(3) === 0 ? 500 : 1),
        ).join('');
        expect(tokenizer.encodeOne(caption), caption.slice(0, 200)).toEqual(wholeText(caption));
      }
    });

    it('gives a word longer than it reads the first tokens of the whole word', () => {
      const letters = [...'abcdefghijklmnopqrstuvwxyz'];
      const kinds: Record<string, string[]> = {
        letters,
        'one letter': ['a'],
        'a few letters': [...'ab'],
        digits: [...'0123456789'],
        punctuation: [...'!?.,-_=+*#@'],
        accented: [...'éèàüößçñ', ...letters],
        cjk: [...'東京タワーの写真猫犬'],
        emoji: ['🐱', '😂', '👍🏽', '❤️'],
        'letters and digits': [...letters, ...'0123456789'],
      };
      for (const [kind, alphabet] of Object.entries(kinds)) {
        const word = drawn(40_000, alphabet);
        expect(tokenizer.encodeOne(`a photo of ${word} cat`), kind).toEqual(
          wholeText(`a photo of ${word} cat`),
        );
      }
    });

    it('tokenizes a 10 MB caption without a space as its beginning', () => {
      const caption = drawn(50_000, [...'abcdefghijklmnopqrstuvwxyz']).repeat(200);
      const ids = tokenizer.encodeOne(caption);
      expect(ids).toHaveLength(77);
      expect(ids).toEqual(wholeText(caption.slice(0, 40_000)));
      expect(tokenizer.encodeOne(' '.repeat(10_000_000) + 'cat')).toEqual([
        START,
        word('cat'),
        END,
      ]);
    });
  });

  describe('errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clip-tokenizer-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const write = (name: string, content: string): string => {
      const path = join(dir, name);
      writeFileSync(path, content);
      return path;
    };
    const rejects = async (path: string, code: string, message: RegExp): Promise<void> => {
      const error = await loadClipTokenizer(path).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StudioError);
      expect((error as StudioError).code).toBe(code);
      expect((error as StudioError).message).toMatch(message);
      expect((error as StudioError).message).toContain(path);
    };

    it('names a missing file', async () => {
      await rejects(join(dir, 'missing.json'), 'not_found', /not found/);
    });

    it('names a file that is not JSON', async () => {
      await rejects(write('garbage.json', 'not json {'), 'bad_input', /not valid JSON/);
    });

    it('names a tokenizer that is not BPE', async () => {
      const wordPiece = { ...tokenizerJson, model: { type: 'WordPiece', vocab: {} } };
      await rejects(write('wordpiece.json', JSON.stringify(wordPiece)), 'bad_input', /not BPE/);
    });

    it('names a BPE tokenizer that is not CLIP’s (GPT-2 style, or not normalising)', async () => {
      const gpt2Style = {
        ...tokenizerJson,
        model: { ...tokenizerJson.model, end_of_word_suffix: '' },
      };
      await rejects(write('gpt2.json', JSON.stringify(gpt2Style)), 'bad_input', /word ends/);
      const raw = { ...tokenizerJson, normalizer: { type: 'NFC' } };
      await rejects(write('raw.json', JSON.stringify(raw)), 'bad_input', /collapse whitespace/);
    });

    it('names a BPE tokenizer without CLIP’s start and end tokens', async () => {
      const noSpecials = { ...tokenizerJson, added_tokens: [] };
      const path = write('no-specials.json', JSON.stringify(noSpecials));
      await rejects(path, 'bad_input', /no <\|startoftext\|> token/);
    });

    it('names a tokenizer whose post-processor does not add <|startoftext|> and <|endoftext|>', async () => {
      const noPost = { ...tokenizerJson, post_processor: null };
      await rejects(write('no-post.json', JSON.stringify(noPost)), 'bad_input', /post-processor/);
    });
  });
});
