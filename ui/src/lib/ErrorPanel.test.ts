import { render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import ErrorPanel from './ErrorPanel.svelte';

const error = {
  kind: 'provider',
  message: 'aws/prod/eu-west-1: ListClusters timed out after 10 s',
  hint: 'Check the network or run cloudops accounts test prod.',
};

describe('ErrorPanel', () => {
  it('shows message and hint, with details behind an expander', () => {
    render(ErrorPanel, { error, title: 'Discovery failed' });
    const panel = screen.getByTestId('error-panel');
    expect(panel).toHaveTextContent('Discovery failed');
    expect(screen.getByTestId('error-message')).toHaveTextContent(error.message);
    expect(screen.getByTestId('error-hint')).toHaveTextContent(error.hint);
    const details = panel.querySelector('details')!;
    expect(details.open).toBe(false);
    expect(screen.getByTestId('error-details')).toHaveTextContent('kind: provider');
  });

  it('copies kind, message and hint as diagnostics', async () => {
    const user = userEvent.setup();
    render(ErrorPanel, { error });
    await user.click(screen.getByTestId('copy-diagnostics'));
    expect(await navigator.clipboard.readText()).toBe(
      `kind: provider\nmessage: ${error.message}\nhint: ${error.hint}`,
    );
    expect(screen.getByTestId('copy-diagnostics')).toHaveTextContent('Copied');
  });

  it('offers Retry only when it can retry', async () => {
    const user = userEvent.setup();
    const onretry = vi.fn();
    const { unmount } = render(ErrorPanel, { error });
    expect(screen.queryByRole('button', { name: 'Retry' })).toBeNull();
    unmount();
    render(ErrorPanel, { error, onretry });
    await user.click(screen.getByRole('button', { name: 'Retry' }));
    expect(onretry).toHaveBeenCalledOnce();
  });

  it('omits the hint line when there is no hint', () => {
    render(ErrorPanel, { error: { kind: 'unknown', message: 'boom', hint: '' } });
    expect(screen.queryByTestId('error-hint')).toBeNull();
  });
});
