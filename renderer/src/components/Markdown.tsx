import { createElement, type ReactNode } from 'react';
import { parseMarkdown, type Block, type Inline } from '../../../shared/markdown';

function inlines(nodes: Inline[]): ReactNode[] {
  return nodes.map((node, i) => {
    switch (node.type) {
      case 'text':
        return node.text;
      case 'code':
        return <code key={i}>{node.text}</code>;
      case 'strong':
        return <strong key={i}>{inlines(node.children)}</strong>;
      case 'em':
        return <em key={i}>{inlines(node.children)}</em>;
      case 'link': {
        // Not followed: its text, then the address to copy, as text.
        const text = inlines(node.children);
        const same =
          node.children.length === 1 &&
          node.children[0]!.type === 'text' &&
          node.children[0]!.text === node.href;
        return (
          <span key={i} className="md-link">
            <span className="md-link-text">{text}</span>
            {!same && <span className="md-link-href"> ({node.href})</span>}
          </span>
        );
      }
    }
  });
}

function block(b: Block, i: number): ReactNode {
  switch (b.type) {
    case 'heading':
      // One level below the panel's own title.
      return createElement(`h${Math.min(6, b.level + 2)}`, { key: i }, inlines(b.children));
    case 'paragraph':
      return <p key={i}>{inlines(b.children)}</p>;
    case 'quote':
      return <blockquote key={i}>{inlines(b.children)}</blockquote>;
    case 'code':
      return (
        <pre key={i}>
          <code>{b.text}</code>
        </pre>
      );
    case 'rule':
      return <hr key={i} />;
    case 'list': {
      const items = b.items.map((item, j) => <li key={j}>{inlines(item)}</li>);
      return b.ordered ? (
        <ol key={i} start={b.start}>
          {items}
        </ol>
      ) : (
        <ul key={i}>{items}</ul>
      );
    }
  }
}

/** Markdown as React elements: text stays text, so nothing in it runs or loads. */
export function Markdown({ text }: { text: string }) {
  return <div className="markdown">{parseMarkdown(text).map(block)}</div>;
}
