// WCAG AA for the theme tokens in app.css, in both colour schemes: 4.5:1 for text on its background.
import { describe, expect, it } from 'vitest';
import css from '../app.css?raw';

function tokens(block: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of block.matchAll(/--([\w-]+):\s*(#[0-9a-fA-F]{6})\b/g)) out[m[1]] = m[2];
  return out;
}

const darkStart = css.indexOf('@media (prefers-color-scheme: dark)');
const light = tokens(css.slice(0, darkStart));
const dark = { ...light, ...tokens(css.slice(darkStart, css.indexOf('\n}\n', darkStart))) };

function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

export function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

const TEXT_PAIRS: [string, string][] = [
  ['fg', 'bg'],
  ['fg', 'bg-subtle'],
  ['fg', 'bg-rail'],
  ['fg', 'row-hover'],
  ['fg', 'row-active'],
  ['fg', 'danger-bg'],
  ['fg-muted', 'bg'],
  ['fg-muted', 'bg-subtle'],
  ['fg-muted', 'bg-rail'],
  ['fg-muted', 'row-active'],
  ['accent', 'bg'],
  ['accent-fg', 'accent'],
  ['danger', 'danger-bg'],
  ['unknown', 'bg'],
  ['unknown', 'row-active'],
  ['good', 'bg'],
  ['warn', 'bg'],
  ['bad', 'bg'],
  ['sandbox-fg', 'sandbox-bg'],
  ['offline-fg', 'offline-bg'],
  ...['aws', 'gcp', 'azure', 'do', 'kubeconfig', 'other'].map(
    (p) => [`badge-${p}-fg`, `badge-${p}-bg`] as [string, string],
  ),
];

describe.each([
  ['light', light],
  ['dark', dark],
])('%s theme', (_name, t) => {
  it('defines every token it is checked against', () => {
    for (const [fg, bg] of TEXT_PAIRS) {
      expect(t[fg], fg).toMatch(/^#/);
      expect(t[bg], bg).toMatch(/^#/);
    }
  });

  it.each(TEXT_PAIRS)('%s on %s reaches 4.5:1', (fg, bg) => {
    expect(contrast(t[fg], t[bg])).toBeGreaterThanOrEqual(4.5);
  });

  it('has a sandbox stripe that stands out from the background (3:1)', () => {
    expect(contrast(t['sandbox-border'], t.bg)).toBeGreaterThanOrEqual(3);
  });

  it('has a focus ring that stands out from the background (3:1)', () => {
    expect(contrast(t.focus, t.bg)).toBeGreaterThanOrEqual(3);
    expect(contrast(t.focus, t['bg-rail'])).toBeGreaterThanOrEqual(3);
  });
});

describe('contrast()', () => {
  it('matches the WCAG reference values', () => {
    expect(contrast('#000000', '#ffffff')).toBeCloseTo(21, 5);
    expect(contrast('#777777', '#ffffff')).toBeCloseTo(4.48, 2);
  });
});
