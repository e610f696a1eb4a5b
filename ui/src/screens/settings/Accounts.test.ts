import { fireEvent, render, screen, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { AccountView } from '../../lib/bindings/AccountView';
import { ACCOUNTS_CHANGED } from '../../lib/ipc';
import { cluster } from '../../test/fixtures';
import { draftProblems, emptyDraft, toInput } from './accountFields';

const core = vi.hoisted(() => ({ invoke: vi.fn(), isTauri: () => true }));
vi.mock('@tauri-apps/api/core', () => core);

import Accounts from './Accounts.svelte';

const DO_ACCOUNT: AccountView = {
  name: 'do-prod',
  provider: 'do',
  profile: null,
  regions: [],
  projects: [],
  subscriptions: [],
  endpoint: null,
  kubeconfig: null,
  billing_export: null,
  has_secret: true,
};

type Handler = (args: Record<string, unknown> | undefined) => unknown;

function backend(handlers: Record<string, Handler>) {
  core.invoke.mockImplementation(async (cmd: string, args?: Record<string, unknown>) => {
    const h = handlers[cmd];
    if (!h) throw { kind: 'unknown', message: `unexpected ${cmd}`, hint: '' };
    return h(args);
  });
}

beforeEach(() => {
  core.invoke.mockReset();
});

describe('account form rules', () => {
  it('takes a GCP billing export table and checks its shape', () => {
    const gcp = { ...emptyDraft('gcp'), name: 'g', projects: 'my-proj' };
    expect(draftProblems({ ...gcp, billingExport: 'p.billing.gcp_billing_export_v1_01' }, false)).toEqual([]);
    expect(draftProblems({ ...gcp, billingExport: 'billing.t' }, false)).toEqual([
      expect.stringContaining('Billing export'),
    ]);
    expect(toInput({ ...gcp, billingExport: ' p.d.t ' }, false).billing_export).toBe('p.d.t');
    // Only a GCP account sends one.
    expect(toInput({ ...emptyDraft('do'), name: 'd', billingExport: 'p.d.t' }, false).billing_export).toBeNull();
  });

  it('asks a new DOKS account for its token, and an edit may keep it', () => {
    const d = { ...emptyDraft('do'), name: 'do-prod' };
    expect(draftProblems(d, false)).toEqual(['API token: required']);
    expect(draftProblems(d, true)).toEqual([]);
  });

  it('refuses bad names, the reserved name, a GCP account without projects and remote plain http', () => {
    expect(draftProblems({ ...emptyDraft('aws'), name: 'a b' }, false)[0]).toMatch(/^Name/);
    expect(draftProblems({ ...emptyDraft('aws'), name: 'env' }, false)[0]).toMatch(/reserved/);
    expect(draftProblems({ ...emptyDraft('gcp'), name: 'g' }, false)).toContain('Projects: at least one GCP project id');
    const remote = { ...emptyDraft('aws'), name: 'a', endpoint: 'http://example.com' };
    expect(draftProblems(remote, false)).toEqual(['Endpoint: https://…, or http:// to 127.0.0.1 only']);
    expect(draftProblems({ ...remote, endpoint: 'http://127.0.0.1:8080/do' }, false)).toEqual([]);
  });

  it('sends only the fields the provider uses', () => {
    const d = {
      ...emptyDraft('do'),
      name: ' do-a ',
      regions: 'us-east-1',
      profile: 'x',
      secret: ' tok ',
      endpoint: '',
    };
    expect(toInput(d, false)).toEqual({
      name: 'do-a',
      provider: 'do',
      profile: null,
      regions: [],
      projects: [],
      subscriptions: [],
      endpoint: null,
      kubeconfig: null,
      billing_export: null,
      secret: 'tok',
      replace: false,
    });
    expect(toInput({ ...emptyDraft('aws'), name: 'a', regions: 'us-east-1, eu-west-1' }, true).regions).toEqual([
      'us-east-1',
      'eu-west-1',
    ]);
  });
});

describe('Accounts section', () => {
  it('lists accounts without ever showing a secret', async () => {
    backend({ accounts_list: () => [DO_ACCOUNT] });
    render(Accounts);
    const row = await screen.findByTestId('account-row');
    expect(row).toHaveTextContent('do-prod');
    expect(row).toHaveTextContent('DOKS');
    expect(row).toHaveTextContent('in keyring');
  });

  it('adds a DOKS account: the token goes out once, the form clears and the app hears of it', async () => {
    const user = userEvent.setup();
    let saved: Record<string, unknown> | undefined;
    const accounts: AccountView[] = [];
    backend({
      accounts_list: () => accounts,
      account_save: (args) => {
        saved = args;
        accounts.push({ ...DO_ACCOUNT, name: 'do-sandbox', endpoint: 'http://127.0.0.1:9/do' });
        return accounts[0];
      },
    });
    const changed = vi.fn();
    window.addEventListener(ACCOUNTS_CHANGED, changed);
    render(Accounts);
    await user.click(await screen.findByTestId('account-add'));
    await user.type(screen.getByTestId('account-name'), 'do-sandbox');
    await user.type(screen.getByTestId('account-secret'), 'dop_v1_typed');
    await user.type(screen.getByTestId('account-endpoint'), 'http://127.0.0.1:9/do');
    await user.click(screen.getByTestId('account-save'));
    expect(await screen.findByTestId('account-saved')).toHaveTextContent('do-sandbox');
    expect(saved).toEqual({
      input: expect.objectContaining({ name: 'do-sandbox', provider: 'do', secret: 'dop_v1_typed', replace: false }),
    });
    expect(screen.queryByTestId('account-form')).toBeNull();
    expect(await screen.findByTestId('account-row')).toHaveTextContent('do-sandbox');
    expect(document.body.textContent).not.toContain('dop_v1_typed');
    expect(changed).toHaveBeenCalledTimes(1);
    window.removeEventListener(ACCOUNTS_CHANGED, changed);
  });

  it('shows the problems instead of calling the backend when the form is incomplete', async () => {
    const user = userEvent.setup();
    backend({ accounts_list: () => [] });
    render(Accounts);
    await user.click(await screen.findByTestId('account-add'));
    await user.click(screen.getByTestId('account-save'));
    const problems = screen.getByTestId('account-problems');
    expect(problems).toHaveTextContent('Name');
    expect(problems).toHaveTextContent('API token: required');
    expect(core.invoke).not.toHaveBeenCalledWith('account_save', expect.anything());
  });

  it('shows the backend refusal with its hint and keeps the form', async () => {
    const user = userEvent.setup();
    backend({
      accounts_list: () => [],
      account_save: () => {
        throw { kind: 'no_keyring', message: 'no OS keyring is available', hint: 'Start a Secret Service' };
      },
    });
    render(Accounts);
    await user.click(await screen.findByTestId('account-add'));
    await user.type(screen.getByTestId('account-name'), 'd');
    await user.type(screen.getByTestId('account-secret'), 't');
    await user.click(screen.getByTestId('account-save'));
    expect(await screen.findByTestId('error-hint')).toHaveTextContent('Start a Secret Service');
    expect(screen.getByTestId('account-form')).toBeInTheDocument();
  });

  it('tests a connection and shows what it found, or why it failed', async () => {
    const user = userEvent.setup();
    let answer: unknown = {
      account: 'do-prod',
      ok: true,
      millis: 42,
      clusters: [cluster({ id: 'c1', name: 'web' }), cluster({ id: 'c2', name: 'api' })],
      errors: [],
    };
    backend({ accounts_list: () => [DO_ACCOUNT], account_test: () => answer });
    render(Accounts);
    await user.click(await screen.findByTestId('account-test'));
    const result = await screen.findByTestId('account-test-result');
    expect(await within(result).findByText(/Connected: found 2 clusters in 42 ms/)).toBeInTheDocument();
    expect(result).toHaveTextContent('web');

    answer = {
      account: 'do-prod',
      ok: false,
      millis: 10,
      clusters: [],
      errors: [
        {
          provider: 'do',
          account: 'do-prod',
          scope: '',
          kind: 'unauthorized',
          message: 'do: the credentials were refused (HTTP 401)',
          hint: 'Enter a new token',
        },
      ],
    };
    await user.click(screen.getByTestId('account-test'));
    expect(await screen.findByTestId('account-test-error')).toHaveTextContent('HTTP 401');
    expect(screen.getByTestId('account-test-error')).toHaveTextContent('Enter a new token');
  });

  it('removes an account only after a confirmation, and Esc keeps it', async () => {
    const user = userEvent.setup();
    const accounts = [DO_ACCOUNT];
    backend({
      accounts_list: () => accounts,
      account_remove: () => {
        accounts.pop();
        return null;
      },
    });
    render(Accounts);
    await user.click(await screen.findByRole('button', { name: 'Remove' }));
    expect(screen.getByTestId('account-remove-confirm')).toHaveTextContent('Nothing changes in the cloud');
    await fireEvent.keyDown(screen.getByTestId('account-remove-confirm'), { key: 'Escape' });
    expect(screen.queryByTestId('account-remove-confirm')).toBeNull();
    expect(core.invoke).not.toHaveBeenCalledWith('account_remove', expect.anything());

    await user.click(screen.getByRole('button', { name: 'Remove' }));
    await user.click(screen.getByTestId('account-remove-yes'));
    expect(core.invoke).toHaveBeenCalledWith('account_remove', { name: 'do-prod' });
    expect(await screen.findByTestId('accounts-empty')).toBeInTheDocument();
  });

  it('edits without asking for the stored secret again', async () => {
    const user = userEvent.setup();
    let saved: Record<string, unknown> | undefined;
    backend({
      accounts_list: () => [DO_ACCOUNT],
      account_save: (args) => {
        saved = args;
        return DO_ACCOUNT;
      },
    });
    render(Accounts);
    await user.click(await screen.findByRole('button', { name: 'Edit' }));
    expect(screen.getByTestId('account-secret')).toHaveValue('');
    await user.type(screen.getByTestId('account-endpoint'), 'https://api.example.test');
    await user.click(screen.getByTestId('account-save'));
    await screen.findByTestId('account-saved');
    expect(saved).toEqual({
      input: expect.objectContaining({ name: 'do-prod', secret: null, replace: true, endpoint: 'https://api.example.test' }),
    });
  });
});
