/**
 * The little Markdown the lead's guidelines need, parsed into plain data that the page renders
 * as React elements (components/Markdown.tsx): headings, paragraphs, lists, block quotes, code,
 * rules, and inline emphasis, code and links. No HTML passes: a `<script>` in the text is text.
 * Pure (no DOM), so it is tested without a page (tests/unit/markdown.test.ts).
 */

export type Inline =
  | { type: 'text'; text: string }
  | { type: 'code'; text: string }
  | { type: 'strong'; children: Inline[] }
  | { type: 'em'; children: Inline[] }
  /** Shown as its text and address, never followed: the page leaves the studio for nothing. */
  | { type: 'link'; children: Inline[]; href: string };

export type Block =
  | { type: 'heading'; level: 1 | 2 | 3 | 4 | 5 | 6; children: Inline[] }
  | { type: 'paragraph'; children: Inline[] }
  | { type: 'list'; ordered: boolean; start: number; items: Inline[][] }
  | { type: 'quote'; children: Inline[] }
  | { type: 'code'; text: string }
  | { type: 'rule' };

const HEADING = /^ {0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$/;
const RULE = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const BULLET = /^[ \t]*[-*+][ \t]+(.*)$/;
const NUMBERED = /^[ \t]*(\d{1,9})[.)][ \t]+(.*)$/;
const QUOTE = /^ {0,3}>[ \t]?(.*)$/;

/** Backticks, then `**`/`__`, then `*`/`_`, then links: the first that matches at a place wins. */
const INLINE =
  /(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)|\*\*(?=\S)([\s\S]*?\S)\*\*|__(?=\S)([\s\S]*?\S)__(?!\w)|\*(?=[^\s*])([\s\S]*?[^\s*])\*|(?<!\w)_(?=[^\s_])([\s\S]*?[^\s_])_(?!\w)|\[([^\]]+)\]\(([^()\s]+)(?:[ \t]+"[^"]*")?\)/g;

export function parseInline(text: string): Inline[] {
  const out: Inline[] = [];
  const pushText = (t: string): void => {
    if (t === '') return;
    const last = out[out.length - 1];
    if (last?.type === 'text') last.text += t;
    else out.push({ type: 'text', text: t });
  };
  let at = 0;
  for (const m of text.matchAll(INLINE)) {
    pushText(text.slice(at, m.index));
    at = m.index + m[0].length;
    if (m[1] !== undefined) out.push({ type: 'code', text: m[2]!.trim() || m[2]! });
    else if (m[3] !== undefined || m[4] !== undefined) {
      out.push({ type: 'strong', children: parseInline(m[3] ?? m[4]!) });
    } else if (m[5] !== undefined || m[6] !== undefined) {
      out.push({ type: 'em', children: parseInline(m[5] ?? m[6]!) });
    } else out.push({ type: 'link', children: parseInline(m[7]!), href: m[8]! });
  }
  pushText(text.slice(at));
  return out;
}

/** The blocks of a Markdown text. */
export function parseMarkdown(source: string): Block[] {
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  const blocks: Block[] = [];
  let paragraph: string[] = [];
  const endParagraph = (): void => {
    if (paragraph.length > 0) {
      blocks.push({ type: 'paragraph', children: parseInline(paragraph.join(' ')) });
    }
    paragraph = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const fence = FENCE.exec(line);
    if (fence) {
      endParagraph();
      const code: string[] = [];
      for (i++; i < lines.length && !lines[i]!.trimStart().startsWith(fence[1]!); i++) {
        code.push(lines[i]!);
      }
      blocks.push({ type: 'code', text: code.join('\n') });
      continue;
    }
    if (line.trim() === '') {
      endParagraph();
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      endParagraph();
      const level = heading[1]!.length as 1 | 2 | 3 | 4 | 5 | 6;
      blocks.push({ type: 'heading', level, children: parseInline(heading[2]!) });
      continue;
    }
    if (RULE.test(line)) {
      endParagraph();
      blocks.push({ type: 'rule' });
      continue;
    }
    const quote = QUOTE.exec(line);
    if (quote) {
      endParagraph();
      const text = [quote[1]!];
      while (i + 1 < lines.length && QUOTE.test(lines[i + 1]!))
        text.push(QUOTE.exec(lines[++i]!)![1]!);
      blocks.push({ type: 'quote', children: parseInline(text.join(' ').trim()) });
      continue;
    }
    const item = BULLET.exec(line) ?? NUMBERED.exec(line);
    if (item) {
      endParagraph();
      i = parseList(lines, i, blocks);
      continue;
    }
    paragraph.push(line.trim());
  }
  endParagraph();
  return blocks;
}

/** A list from line `first` on; returns the index of its last line. */
function parseList(lines: string[], first: number, blocks: Block[]): number {
  const ordered = !BULLET.test(lines[first]!);
  const pattern = ordered ? NUMBERED : BULLET;
  const items: string[][] = [];
  let i = first;
  for (; i < lines.length; i++) {
    const line = lines[i]!;
    const item = pattern.exec(line);
    if (item) items.push([(ordered ? item[2] : item[1])!.trim()]);
    else if (line.trim() !== '' && /^[ \t]+/.test(line)) items[items.length - 1]!.push(line.trim());
    else break;
  }
  blocks.push({
    type: 'list',
    ordered,
    start: ordered ? Number(NUMBERED.exec(lines[first]!)![1]) : 1,
    items: items.map((text) => parseInline(text.join(' '))),
  });
  return i - 1;
}

/**
 * A short, stable hash of a text (53 bits, cyrb53), as hex: the guidelines' version in the
 * browser's memory of what an annotator has read.
 */
export function textHash(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16);
}
