/** Copies text; true on success. Falls back to execCommand where the async clipboard API is refused. */
export async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard?.writeText) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Refused (permissions, no secure context): try the legacy path below.
  }
  const ta = document.createElement('textarea');
  ta.value = text;
  ta.setAttribute('readonly', '');
  // A class, not a style attribute: the CSP forbids inline styles.
  ta.className = 'clipboard-fallback';
  document.body.appendChild(ta);
  try {
    ta.select();
    return typeof document.execCommand === 'function' && document.execCommand('copy');
  } catch {
    return false;
  } finally {
    ta.remove();
  }
}
