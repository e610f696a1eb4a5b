import type { Provider } from './bindings/Provider';

// Text badges instead of vendor logos (§11). Labels name the Kubernetes service, not the cloud.
const LABELS: Record<Provider, string> = {
  aws: 'EKS',
  gcp: 'GKE',
  azure: 'AKS',
  do: 'DOKS',
  kubeconfig: 'kubeconfig',
};

const NAMES: Record<Provider, string> = {
  aws: 'Amazon EKS (AWS)',
  gcp: 'Google Kubernetes Engine (Google Cloud)',
  azure: 'Azure Kubernetes Service (Azure)',
  do: 'DigitalOcean Kubernetes (DigitalOcean)',
  kubeconfig: 'From a kubeconfig file',
};

// Typed as string so a provider the Rust side adds later still renders instead of crashing.
export function providerLabel(p: string): string {
  return (LABELS as Record<string, string>)[p] ?? p.toUpperCase();
}

export function providerName(p: string): string {
  return (NAMES as Record<string, string>)[p] ?? p;
}

/** CSS class suffix; unknown providers share the neutral colour. */
export function providerTone(p: string): string {
  return p in LABELS ? p : 'other';
}
