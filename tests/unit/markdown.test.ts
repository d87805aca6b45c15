import { describe, expect, it } from 'vitest';
import { parseInline, parseMarkdown, textHash } from '../../shared/markdown';

describe("the guidelines' Markdown", () => {
  it('reads headings, paragraphs, lists, quotes, code and rules', () => {
    const blocks = parseMarkdown(
      [
        '# Judge the prompt',
        '',
        'First line',
        'goes on.',
        '',
        '- colour',
        '- count',
        '  continued',
        '',
        '3. third',
        '4. fourth',
        '> a quote',
        '```',
        '**not bold**',
        '```',
        '---',
      ].join('\n'),
    );
    expect(blocks).toEqual([
      { type: 'heading', level: 1, children: [{ type: 'text', text: 'Judge the prompt' }] },
      { type: 'paragraph', children: [{ type: 'text', text: 'First line goes on.' }] },
      {
        type: 'list',
        ordered: false,
        start: 1,
        items: [[{ type: 'text', text: 'colour' }], [{ type: 'text', text: 'count continued' }]],
      },
      {
        type: 'list',
        ordered: true,
        start: 3,
        items: [[{ type: 'text', text: 'third' }], [{ type: 'text', text: 'fourth' }]],
      },
      { type: 'quote', children: [{ type: 'text', text: 'a quote' }] },
      { type: 'code', text: '**not bold**' },
      { type: 'rule' },
    ]);
  });

  it('reads emphasis, code and links, and keeps HTML as text', () => {
    expect(parseInline('a **b _c_** `d*e*` [f](https://x.org/g) <script>h</script>')).toEqual([
      { type: 'text', text: 'a ' },
      {
        type: 'strong',
        children: [
          { type: 'text', text: 'b ' },
          { type: 'em', children: [{ type: 'text', text: 'c' }] },
        ],
      },
      { type: 'text', text: ' ' },
      { type: 'code', text: 'd*e*' },
      { type: 'text', text: ' ' },
      { type: 'link', children: [{ type: 'text', text: 'f' }], href: 'https://x.org/g' },
      { type: 'text', text: ' <script>h</script>' },
    ]);
    // An underscore inside a word is a letter, not emphasis.
    expect(parseInline('snake_case_name')).toEqual([{ type: 'text', text: 'snake_case_name' }]);
  });

  it('hashes a text stably, and another text differently', () => {
    expect(textHash('# v1')).toBe(textHash('# v1'));
    expect(textHash('# v1')).not.toBe(textHash('# v2'));
  });
});
