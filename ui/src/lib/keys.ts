// Global keyboard shortcuts (§11): Ctrl/Cmd+K for the palette, `/` for the current screen's filter.

type KeyLike = Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey' | 'altKey' | 'target'>;

/** True when keystrokes belong to a text field, so `/` must type a slash instead of jumping. */
export function isEditable(target: EventTarget | null): boolean {
  if (!target || typeof (target as Element).tagName !== 'string') return false;
  const el = target as HTMLElement;
  const tag = el.tagName.toLowerCase();
  if (tag === 'textarea' || tag === 'select') return true;
  if (tag === 'input') {
    const type = ((el as HTMLInputElement).type || 'text').toLowerCase();
    return !['button', 'checkbox', 'radio', 'submit', 'reset', 'range', 'color', 'file', 'image'].includes(type);
  }
  return el.isContentEditable === true || el.getAttribute('contenteditable') === 'true';
}

export function isFilterShortcut(e: KeyLike): boolean {
  return e.key === '/' && !e.ctrlKey && !e.metaKey && !e.altKey && !isEditable(e.target);
}

/**
 * `r` refreshes the current screen's data (the fleet: discover now). A bare letter, so never while typing,
 * never with a modifier (Ctrl+R stays the webview's), and never inside a dialog such as the palette.
 */
export function isRefreshShortcut(e: KeyLike & Partial<Pick<KeyboardEvent, 'shiftKey' | 'repeat'>>): boolean {
  if (e.key !== 'r' || e.ctrlKey || e.metaKey || e.altKey || e.shiftKey || e.repeat) return false;
  if (isEditable(e.target)) return false;
  const el = e.target as Element | null;
  return !(typeof el?.closest === 'function' && el.closest('[role="dialog"], [aria-modal="true"]'));
}

export function isPaletteShortcut(e: KeyLike): boolean {
  return (e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === 'k';
}

// The screen that owns a filter registers it; only one screen is mounted at a time.
let currentFilter: HTMLInputElement | null = null;

export function registerFilter(el: HTMLInputElement): () => void {
  currentFilter = el;
  return () => {
    if (currentFilter === el) currentFilter = null;
  };
}

export function hasFilter(): boolean {
  return currentFilter !== null && currentFilter.isConnected;
}

export function focusFilter(): boolean {
  if (!hasFilter()) return false;
  currentFilter!.focus();
  currentFilter!.select();
  return true;
}

/** Svelte action: `<input use:screenFilter>` makes the input the target of `/`. */
export function screenFilter(node: HTMLInputElement) {
  const unregister = registerFilter(node);
  return { destroy: unregister };
}

/** What a key does on row `i` of a keyboard-driven list of `length` rows (§11: arrows, Home/End, Enter). */
export type ListKeyAction = { kind: 'move'; to: number } | { kind: 'above' } | { kind: 'activate' } | null;

/**
 * The one keyboard model of every list: ArrowDown/ArrowUp move (clamped), ArrowUp on the first row leaves the
 * list upwards (to its filter, where it has one), Home/End jump, Enter or Space activates the row.
 */
export function listKeyAction(key: string, i: number, length: number): ListKeyAction {
  switch (key) {
    case 'ArrowDown':
      return { kind: 'move', to: Math.max(0, Math.min(i + 1, length - 1)) };
    case 'ArrowUp':
      return i <= 0 ? { kind: 'above' } : { kind: 'move', to: i - 1 };
    case 'Home':
      return { kind: 'move', to: 0 };
    case 'End':
      return { kind: 'move', to: Math.max(0, length - 1) };
    case 'Enter':
    case ' ':
      return { kind: 'activate' };
    default:
      return null;
  }
}
