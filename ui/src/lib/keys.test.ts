import { afterEach, describe, expect, it } from 'vitest';
import {
  focusFilter,
  hasFilter,
  isEditable,
  isFilterShortcut,
  isPaletteShortcut,
  isRefreshShortcut,
  listKeyAction,
  registerFilter,
} from './keys';

function key(k: string, target: EventTarget | null, mods: Partial<KeyboardEvent> = {}) {
  return { key: k, ctrlKey: false, metaKey: false, altKey: false, target, ...mods };
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  document.body.appendChild(e);
  return e;
}

afterEach(() => {
  document.body.innerHTML = '';
});

describe('the / guard', () => {
  it('fires from the page body and from buttons', () => {
    expect(isFilterShortcut(key('/', document.body))).toBe(true);
    expect(isFilterShortcut(key('/', el('button')))).toBe(true);
    expect(isFilterShortcut(key('/', el('input', { type: 'checkbox' })))).toBe(true);
  });

  it('does not fire while typing in a text field', () => {
    expect(isFilterShortcut(key('/', el('input')))).toBe(false);
    expect(isFilterShortcut(key('/', el('input', { type: 'search' })))).toBe(false);
    expect(isFilterShortcut(key('/', el('textarea')))).toBe(false);
    expect(isFilterShortcut(key('/', el('select')))).toBe(false);
    expect(isFilterShortcut(key('/', el('div', { contenteditable: 'true' })))).toBe(false);
  });

  it('ignores other keys and modified slashes', () => {
    expect(isFilterShortcut(key('?', document.body))).toBe(false);
    expect(isFilterShortcut(key('/', document.body, { ctrlKey: true }))).toBe(false);
  });

  it('treats a non-element target as not editable', () => {
    expect(isEditable(null)).toBe(false);
    expect(isEditable(window)).toBe(false);
  });
});

describe('the palette shortcut', () => {
  it('is Ctrl+K or Cmd+K, in any case, even inside an input', () => {
    expect(isPaletteShortcut(key('k', el('input'), { ctrlKey: true }))).toBe(true);
    expect(isPaletteShortcut(key('K', document.body, { metaKey: true }))).toBe(true);
    expect(isPaletteShortcut(key('k', document.body))).toBe(false);
    expect(isPaletteShortcut(key('k', document.body, { ctrlKey: true, altKey: true }))).toBe(false);
  });
});

describe('the R shortcut', () => {
  it('fires for a bare r outside text fields', () => {
    expect(isRefreshShortcut(key('r', document.body))).toBe(true);
    expect(isRefreshShortcut(key('r', el('button')))).toBe(true);
  });

  it('does not fire while typing, with a modifier, on repeat, for R or inside a dialog', () => {
    expect(isRefreshShortcut(key('r', el('input', { type: 'search' })))).toBe(false);
    expect(isRefreshShortcut(key('r', document.body, { ctrlKey: true }))).toBe(false);
    expect(isRefreshShortcut(key('r', document.body, { metaKey: true }))).toBe(false);
    expect(isRefreshShortcut(key('r', document.body, { altKey: true }))).toBe(false);
    expect(isRefreshShortcut({ ...key('R', document.body), shiftKey: true })).toBe(false);
    expect(isRefreshShortcut({ ...key('r', document.body), repeat: true })).toBe(false);
    const dialog = el('div', { role: 'dialog' });
    const inside = document.createElement('button');
    dialog.appendChild(inside);
    expect(isRefreshShortcut(key('r', inside))).toBe(false);
    expect(isRefreshShortcut(key('x', document.body))).toBe(false);
  });
});

describe('filter registry', () => {
  it('focuses the registered filter and forgets it on unregister', () => {
    const input = el('input');
    const unregister = registerFilter(input);
    expect(hasFilter()).toBe(true);
    expect(focusFilter()).toBe(true);
    expect(document.activeElement).toBe(input);
    unregister();
    expect(hasFilter()).toBe(false);
    expect(focusFilter()).toBe(false);
  });

  it('does not focus a filter that left the DOM', () => {
    const input = el('input');
    const unregister = registerFilter(input);
    input.remove();
    expect(focusFilter()).toBe(false);
    unregister();
  });
});

describe('listKeyAction', () => {
  it('moves within the list, clamped, and jumps with Home/End', () => {
    expect(listKeyAction('ArrowDown', 0, 3)).toEqual({ kind: 'move', to: 1 });
    expect(listKeyAction('ArrowDown', 2, 3)).toEqual({ kind: 'move', to: 2 });
    expect(listKeyAction('ArrowUp', 2, 3)).toEqual({ kind: 'move', to: 1 });
    expect(listKeyAction('Home', 2, 3)).toEqual({ kind: 'move', to: 0 });
    expect(listKeyAction('End', 0, 3)).toEqual({ kind: 'move', to: 2 });
  });

  it('leaves upwards from the first row, activates on Enter and Space, ignores other keys', () => {
    expect(listKeyAction('ArrowUp', 0, 3)).toEqual({ kind: 'above' });
    expect(listKeyAction('Enter', 1, 3)).toEqual({ kind: 'activate' });
    expect(listKeyAction(' ', 1, 3)).toEqual({ kind: 'activate' });
    expect(listKeyAction('a', 1, 3)).toBeNull();
  });
});
