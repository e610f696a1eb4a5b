//! The local multi-cloud emulator (BRIEF §6): the four provider APIs on their
//! real paths and wire formats, a Kubernetes API and a Prometheus API per
//! sandbox cluster, a simulated world and a chaos control endpoint. It depends
//! on `cloudops-core` (and later on the provider wire models of
//! `cloudops-cloud`), never the reverse. Arrives with issue 3.
