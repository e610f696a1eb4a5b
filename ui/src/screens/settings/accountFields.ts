// What the account form asks for, per provider. Kept out of the component so it is tested on its own and so
// the form and the list describe accounts the same way.
import type { AccountInput } from '../../lib/bindings/AccountInput';
import type { AccountView } from '../../lib/bindings/AccountView';
import type { Provider } from '../../lib/bindings/Provider';

export interface SecretField {
  label: string;
  /** Required when the account is new (an edit may keep the stored one). */
  required: boolean;
  help: string;
}

export interface ProviderForm {
  profile: boolean;
  regions: boolean;
  projects: boolean;
  subscriptions: boolean;
  kubeconfig: boolean;
  /** GCP: the opt-in BigQuery billing export table (GKE actuals instead of the estimate). */
  billingExport: boolean;
  secret: SecretField | null;
}

export const PROVIDER_FORMS: Record<Provider, ProviderForm> = {
  do: {
    profile: false,
    regions: false,
    projects: false,
    subscriptions: false,
    kubeconfig: false,
    billingExport: false,
    secret: {
      label: 'API token',
      required: true,
      help: 'A DigitalOcean personal access token with read scope (write scope to scale node pools).',
    },
  },
  aws: {
    profile: true,
    regions: true,
    projects: false,
    subscriptions: false,
    kubeconfig: false,
    billingExport: false,
    secret: {
      label: 'Access keys (optional)',
      required: false,
      help: 'ACCESS_KEY_ID:SECRET_ACCESS_KEY. Leave empty to use the profile (SSO works through it).',
    },
  },
  gcp: {
    profile: false,
    regions: false,
    projects: true,
    subscriptions: false,
    kubeconfig: false,
    billingExport: true,
    secret: {
      label: 'Access token (optional)',
      required: false,
      help: 'An OAuth access token (gcloud auth print-access-token). Leave empty to use Application Default Credentials.',
    },
  },
  azure: {
    profile: false,
    regions: false,
    projects: false,
    subscriptions: true,
    kubeconfig: false,
    billingExport: false,
    secret: {
      label: 'ARM access token',
      required: true,
      help: 'A token for https://management.azure.com/ (az account get-access-token).',
    },
  },
  kubeconfig: {
    profile: false,
    regions: false,
    projects: false,
    subscriptions: false,
    kubeconfig: true,
    billingExport: false,
    secret: null,
  },
};

export const PROVIDER_ORDER: Provider[] = ['aws', 'gcp', 'azure', 'do', 'kubeconfig'];

export interface AccountDraft {
  name: string;
  provider: Provider;
  profile: string;
  regions: string;
  projects: string;
  subscriptions: string;
  endpoint: string;
  kubeconfig: string;
  billingExport: string;
  secret: string;
}

export function emptyDraft(provider: Provider = 'do'): AccountDraft {
  return {
    name: '',
    provider,
    profile: '',
    regions: '',
    projects: '',
    subscriptions: '',
    endpoint: '',
    kubeconfig: '',
    billingExport: '',
    secret: '',
  };
}

/** The form for an existing account. The secret is never known here: it stays empty unless retyped. */
export function draftFrom(a: AccountView): AccountDraft {
  return {
    name: a.name,
    provider: a.provider,
    profile: a.profile ?? '',
    regions: a.regions.join(', '),
    projects: a.projects.join(', '),
    subscriptions: a.subscriptions.join(', '),
    endpoint: a.endpoint ?? '',
    kubeconfig: a.kubeconfig ?? '',
    billingExport: a.billing_export ?? '',
    secret: '',
  };
}

function list(s: string): string[] {
  return s
    .split(/[,\s]+/)
    .map((x) => x.trim())
    .filter((x) => x !== '');
}

function optional(s: string): string | null {
  const t = s.trim();
  return t === '' ? null : t;
}

/** Client-side checks for a quick answer; the backend validates everything again. */
export function draftProblems(d: AccountDraft, editing: boolean): string[] {
  const form = PROVIDER_FORMS[d.provider];
  const problems: string[] = [];
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(d.name.trim())) {
    problems.push('Name: 1 to 64 letters, digits, "-", "_" or "."');
  } else if (d.name.trim() === 'env') {
    problems.push('Name: "env" is reserved for the environment\'s own credentials');
  }
  if (form.projects && list(d.projects).length === 0) problems.push('Projects: at least one GCP project id');
  if (form.secret?.required && !editing && d.secret.trim() === '') {
    problems.push(`${form.secret.label}: required`);
  }
  const table = d.billingExport.trim();
  if (form.billingExport && table !== '' && !/^[a-z0-9.:-]+[.:][A-Za-z0-9_]+\.[A-Za-z0-9_-]+$/.test(table)) {
    problems.push('Billing export: PROJECT.DATASET.TABLE, e.g. my-proj.billing.gcp_billing_export_v1_…');
  }
  const endpoint = d.endpoint.trim();
  if (endpoint !== '' && !/^https:\/\/\S+$/.test(endpoint) && !/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(\/\S*)?$/.test(endpoint)) {
    problems.push('Endpoint: https://…, or http:// to 127.0.0.1 only');
  }
  return problems;
}

/** The IPC payload; only the fields the provider uses are sent. */
export function toInput(d: AccountDraft, replace: boolean): AccountInput {
  const form = PROVIDER_FORMS[d.provider];
  return {
    name: d.name.trim(),
    provider: d.provider,
    profile: form.profile ? optional(d.profile) : null,
    regions: form.regions ? list(d.regions) : [],
    projects: form.projects ? list(d.projects) : [],
    subscriptions: form.subscriptions ? list(d.subscriptions) : [],
    endpoint: optional(d.endpoint),
    kubeconfig: form.kubeconfig ? optional(d.kubeconfig) : null,
    billing_export: form.billingExport ? optional(d.billingExport) : null,
    secret: form.secret ? optional(d.secret) : null,
    replace,
  };
}

/** One line about where an account looks, for the list. */
export function accountScope(a: AccountView): string {
  const parts: string[] = [];
  if (a.profile) parts.push(`profile ${a.profile}`);
  if (a.regions.length) parts.push(a.regions.join(', '));
  if (a.projects.length) parts.push(a.projects.join(', '));
  if (a.subscriptions.length) parts.push(a.subscriptions.join(', '));
  if (a.kubeconfig) parts.push(a.kubeconfig);
  if (a.endpoint) parts.push(`via ${a.endpoint}`);
  if (a.billing_export) parts.push(`cost from ${a.billing_export}`);
  return parts.join(' · ') || 'defaults';
}
