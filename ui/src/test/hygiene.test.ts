// Static guards for the CSP and Tauri settings: `style-src 'self'`, no remote resources, no window.__TAURI__.
import { describe, expect, it } from 'vitest';
import indexHtml from '../../index.html?raw';

const sources = import.meta.glob<string>(['../**/*.svelte', '../**/*.ts', '../**/*.css', '!../**/*.test.ts'], {
  query: '?raw',
  import: 'default',
  eager: true,
});
const svelteFiles = Object.entries(sources).filter(([p]) => p.endsWith('.svelte'));

describe('source hygiene', () => {
  it('found the sources to check', () => {
    expect(svelteFiles.length).toBeGreaterThan(10);
  });

  it('has no inline style attributes or inline scripts in index.html', () => {
    expect(indexHtml).not.toMatch(/\sstyle=/);
    expect(indexHtml).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  });

  it.each(svelteFiles)('%s has no style="" attribute', (_path, text) => {
    const markup = text.replace(/<script[\s\S]*?<\/script>/g, '').replace(/<style[\s\S]*?<\/style>/g, '');
    expect(markup).not.toMatch(/\sstyle\s*=/);
  });

  it('never reaches for window.__TAURI__ and imports invoke only from @tauri-apps/api/core', () => {
    for (const [path, text] of Object.entries(sources)) {
      expect(text, path).not.toContain('__TAURI__');
      for (const m of text.matchAll(/import\s*{[^}]*\binvoke\b[^}]*}\s*from\s*'([^']+)'/g)) {
        expect(m[1], path).toBe('@tauri-apps/api/core');
      }
    }
  });

  it('loads nothing from the network (no remote fonts, CDNs or images)', () => {
    for (const [path, text] of Object.entries({ ...sources, 'index.html': indexHtml })) {
      expect(text, path).not.toMatch(/@import\s+url\(|url\(\s*['"]?https?:|<link[^>]+https?:|src=["']https?:/);
    }
  });
});
