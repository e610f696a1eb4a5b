//! The object store of one sandbox cluster: typed k8s-openapi objects in
//! ordered maps, one cluster-wide resourceVersion counter, and the change
//! history that watches resume from.
//!
//! Scale (BRIEF §9 P6, a 30k-pod cluster): objects are `Arc`s in `BTreeMap`s
//! keyed by (namespace, name), so a namespace is a key range, a list clones
//! pointers under the lock and serializes after releasing it, and a write is
//! O(log n). Owner indexes (pods by ReplicaSet, ReplicaSets by Deployment)
//! keep the controllers from scanning whole tables.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap, VecDeque},
    ops::Bound,
    sync::Arc,
    time::Instant,
};

use k8s_openapi::{
    api::{
        apps::v1::{Deployment, ReplicaSet},
        autoscaling::v2::HorizontalPodAutoscaler,
        core::v1::{Event, Namespace, Node, Pod},
    },
    apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time},
    jiff::Timestamp,
    serde::{de::DeserializeOwned, Serialize},
    ListableResource, Metadata, Resource,
};
use tokio::sync::broadcast;

/// (namespace, name); the namespace is empty for cluster-scoped objects.
pub(crate) type Key = (String, String);

/// Changes kept for watches that resume from a resourceVersion. Like the
/// apiserver's watch cache, it is small: an older version gets 410 Expired
/// and the client re-lists.
const HISTORY: usize = 2048;
/// Per-watcher backlog before a slow watcher is cut off (with 410).
const BROADCAST: usize = 4096;

/// The resources the sandbox serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Res {
    Namespaces,
    Nodes,
    Pods,
    Events,
    Deployments,
    ReplicaSets,
    Hpas,
}

impl Res {
    pub const ALL: [Res; 7] = [
        Res::Namespaces,
        Res::Nodes,
        Res::Pods,
        Res::Events,
        Res::Deployments,
        Res::ReplicaSets,
        Res::Hpas,
    ];

    pub fn group(self) -> &'static str {
        match self {
            Res::Namespaces | Res::Nodes | Res::Pods | Res::Events => "",
            Res::Deployments | Res::ReplicaSets => "apps",
            Res::Hpas => "autoscaling",
        }
    }

    pub fn version(self) -> &'static str {
        match self {
            Res::Hpas => "v2",
            _ => "v1",
        }
    }

    pub fn plural(self) -> &'static str {
        match self {
            Res::Namespaces => "namespaces",
            Res::Nodes => "nodes",
            Res::Pods => "pods",
            Res::Events => "events",
            Res::Deployments => "deployments",
            Res::ReplicaSets => "replicasets",
            Res::Hpas => "horizontalpodautoscalers",
        }
    }

    pub fn kind(self) -> &'static str {
        match self {
            Res::Namespaces => "Namespace",
            Res::Nodes => "Node",
            Res::Pods => "Pod",
            Res::Events => "Event",
            Res::Deployments => "Deployment",
            Res::ReplicaSets => "ReplicaSet",
            Res::Hpas => "HorizontalPodAutoscaler",
        }
    }

    pub fn namespaced(self) -> bool {
        !matches!(self, Res::Namespaces | Res::Nodes)
    }

    pub fn short_names(self) -> &'static [&'static str] {
        match self {
            Res::Namespaces => &["ns"],
            Res::Nodes => &["no"],
            Res::Pods => &["po"],
            Res::Events => &["ev"],
            Res::Deployments => &["deploy"],
            Res::ReplicaSets => &["rs"],
            Res::Hpas => &["hpa"],
        }
    }

    /// The verbs served, in discovery's words.
    pub fn verbs(self) -> &'static [&'static str] {
        match self {
            Res::Deployments => &[
                "create", "delete", "get", "list", "patch", "update", "watch",
            ],
            Res::Hpas => &[
                "create", "delete", "get", "list", "patch", "update", "watch",
            ],
            Res::Pods => &["delete", "get", "list", "watch"],
            Res::Namespaces | Res::Nodes | Res::Events | Res::ReplicaSets => {
                &["get", "list", "watch"]
            }
        }
    }

    pub fn allows(self, verb: &str) -> bool {
        self.verbs().contains(&verb)
    }

    /// `pods`, `deployments.apps`: how the apiserver names it in messages.
    pub fn group_resource(self) -> String {
        match self.group() {
            "" => self.plural().to_string(),
            g => format!("{}.{g}", self.plural()),
        }
    }

    pub fn lookup(group: &str, version: &str, plural: &str) -> Option<Res> {
        Res::ALL
            .into_iter()
            .find(|r| r.group() == group && r.version() == version && r.plural() == plural)
    }
}

/// What a table's objects must be: a k8s-openapi type with `ObjectMeta`.
pub(crate) trait Object:
    Resource
    + ListableResource
    + Metadata<Ty = ObjectMeta>
    + Serialize
    + DeserializeOwned
    + Clone
    + PartialEq
    + Send
    + Sync
    + 'static
{
    const RES: Res;
    fn table(store: &Store) -> &Table<Self>;
    fn table_mut(store: &mut Store) -> &mut Table<Self>;
    fn wrap(obj: Arc<Self>) -> AnyObject;
    fn unwrap(obj: &AnyObject) -> Option<&Arc<Self>>;

    /// The field-selector fields beyond `metadata.name`/`metadata.namespace`.
    const FIELDS: &'static [&'static str] = &[];

    /// The value of one of [`Object::FIELDS`]: `None` for an unknown field,
    /// `Some(None)` for an unset one.
    fn field(&self, _field: &str) -> Option<Option<&str>> {
        None
    }
}

/// An object of any served type, as a watch event carries it.
#[derive(Debug, Clone)]
pub(crate) enum AnyObject {
    Namespace(Arc<Namespace>),
    Node(Arc<Node>),
    Pod(Arc<Pod>),
    Event(Arc<Event>),
    Deployment(Arc<Deployment>),
    ReplicaSet(Arc<ReplicaSet>),
    Hpa(Arc<HorizontalPodAutoscaler>),
}

macro_rules! object {
    ($ty:ident, $res:ident, $field:ident, $variant:ident) => {
        impl Object for $ty {
            const RES: Res = Res::$res;
            fn table(store: &Store) -> &Table<Self> {
                &store.$field
            }
            fn table_mut(store: &mut Store) -> &mut Table<Self> {
                &mut store.$field
            }
            fn wrap(obj: Arc<Self>) -> AnyObject {
                AnyObject::$variant(obj)
            }
            fn unwrap(obj: &AnyObject) -> Option<&Arc<Self>> {
                match obj {
                    AnyObject::$variant(o) => Some(o),
                    _ => None,
                }
            }
            object!(@field $ty);
        }
    };
    (@field Pod) => {
        const FIELDS: &'static [&'static str] = &["spec.nodeName", "status.phase"];
        fn field(&self, field: &str) -> Option<Option<&str>> {
            match field {
                "spec.nodeName" => Some(self.spec.as_ref().and_then(|s| s.node_name.as_deref())),
                "status.phase" => Some(self.status.as_ref().and_then(|s| s.phase.as_deref())),
                _ => None,
            }
        }
    };
    (@field Event) => {
        const FIELDS: &'static [&'static str] = &[
            "involvedObject.kind",
            "involvedObject.name",
            "involvedObject.namespace",
            "involvedObject.uid",
            "reason",
            "type",
        ];
        fn field(&self, field: &str) -> Option<Option<&str>> {
            let io = &self.involved_object;
            match field {
                "involvedObject.kind" => Some(io.kind.as_deref()),
                "involvedObject.name" => Some(io.name.as_deref()),
                "involvedObject.namespace" => Some(io.namespace.as_deref()),
                "involvedObject.uid" => Some(io.uid.as_deref()),
                "reason" => Some(self.reason.as_deref()),
                "type" => Some(self.type_.as_deref()),
                _ => None,
            }
        }
    };
    (@field $other:ident) => {};
}

object!(Namespace, Namespaces, namespaces, Namespace);
object!(Node, Nodes, nodes, Node);
object!(Pod, Pods, pods, Pod);
object!(Event, Events, events, Event);
object!(Deployment, Deployments, deployments, Deployment);
object!(ReplicaSet, ReplicaSets, replicasets, ReplicaSet);
object!(HorizontalPodAutoscaler, Hpas, hpas, Hpa);

/// A watch event type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One committed change: what watches stream.
#[derive(Debug)]
pub(crate) struct Change {
    pub rv: u64,
    pub event: EventType,
    pub object: AnyObject,
}

/// One resource's objects, with the index of their controlling owner.
#[derive(Debug)]
pub(crate) struct Table<K> {
    items: BTreeMap<Key, Arc<K>>,
    /// (namespace, owner name) -> names of the objects it controls.
    by_owner: HashMap<Key, BTreeSet<String>>,
}

impl<K> Default for Table<K> {
    fn default() -> Self {
        Self {
            items: BTreeMap::new(),
            by_owner: HashMap::new(),
        }
    }
}

fn controller_of(meta: &ObjectMeta) -> Option<&str> {
    let refs = meta.owner_references.as_deref()?;
    refs.iter()
        .find(|r| r.controller == Some(true))
        .map(|r| r.name.as_str())
}

pub(crate) fn key_of(meta: &ObjectMeta) -> Key {
    (
        meta.namespace.clone().unwrap_or_default(),
        meta.name.clone().unwrap_or_default(),
    )
}

impl<K: Object> Table<K> {
    pub fn get(&self, ns: &str, name: &str) -> Option<&Arc<K>> {
        // A borrowed-tuple lookup would need a custom key type; the
        // allocation is per single-object request, not per list item.
        self.items.get(&(ns.to_string(), name.to_string()))
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Objects of one namespace (`Some`), or of all (`None`), in key order,
    /// starting after `after` when given (list continuation).
    pub fn range<'a>(
        &'a self,
        ns: Option<&str>,
        after: Option<&Key>,
    ) -> Box<dyn Iterator<Item = (&'a Key, &'a Arc<K>)> + 'a> {
        let lower = match after {
            Some(k) => Bound::Excluded(k.clone()),
            None => match ns {
                Some(ns) => Bound::Included((ns.to_string(), String::new())),
                None => Bound::Unbounded,
            },
        };
        let iter = self.items.range((lower, Bound::Unbounded));
        match ns {
            Some(ns) => {
                let ns = ns.to_string();
                Box::new(iter.take_while(move |((n, _), _)| *n == ns))
            }
            None => Box::new(iter),
        }
    }

    pub fn values(&self) -> impl Iterator<Item = &Arc<K>> {
        self.items.values()
    }

    /// Names of the objects in `ns` that `owner` controls.
    pub fn owned_by(&self, ns: &str, owner: &str) -> Vec<String> {
        self.by_owner
            .get(&(ns.to_string(), owner.to_string()))
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    fn insert(&mut self, obj: Arc<K>) -> Option<Arc<K>> {
        let key = key_of(obj.metadata());
        if let Some(owner) = controller_of(obj.metadata()) {
            self.by_owner
                .entry((key.0.clone(), owner.to_string()))
                .or_default()
                .insert(key.1.clone());
        }
        let old = self.items.insert(key.clone(), obj);
        if let Some(old) = &old {
            self.unindex(&key, old);
        }
        old
    }

    /// Drops `old`'s owner index entry unless the current object keeps it.
    fn unindex(&mut self, key: &Key, old: &Arc<K>) {
        let Some(owner) = controller_of(old.metadata()) else {
            return;
        };
        let still = self
            .items
            .get(key)
            .and_then(|cur| controller_of(cur.metadata()))
            == Some(owner);
        if still {
            return;
        }
        let okey = (key.0.clone(), owner.to_string());
        if let Some(set) = self.by_owner.get_mut(&okey) {
            set.remove(&key.1);
            if set.is_empty() {
                self.by_owner.remove(&okey);
            }
        }
    }

    fn remove(&mut self, key: &Key) -> Option<Arc<K>> {
        let old = self.items.remove(key)?;
        self.unindex(key, &old);
        Some(old)
    }
}

/// A pod waiting to turn Ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Due(pub Instant);

/// Requested resources bound to a node.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Usage {
    pub cpu_milli: i64,
    pub memory: i64,
    pub pods: i64,
}

/// Everything of one cluster, behind its own lock.
#[derive(Debug)]
pub(crate) struct Store {
    pub rv: u64,
    pub namespaces: Table<Namespace>,
    pub nodes: Table<Node>,
    pub pods: Table<Pod>,
    pub events: Table<Event>,
    pub deployments: Table<Deployment>,
    pub replicasets: Table<ReplicaSet>,
    pub hpas: Table<HorizontalPodAutoscaler>,
    history: VecDeque<Arc<Change>>,
    /// The newest rv the history has dropped (or never had): a watch must
    /// start at or after it.
    compacted: u64,
    tx: broadcast::Sender<Arc<Change>>,

    // Controller bookkeeping (see controllers.rs).
    /// The seeded RNG for names, uids and IPs.
    pub rng: fastrand::Rng,
    /// Deployments to reconcile.
    pub dirty: BTreeSet<Key>,
    /// HPAs to evaluate before their next periodic sync.
    pub dirty_hpas: BTreeSet<Key>,
    /// Pods turning Ready, by when.
    pub ready_queue: BTreeSet<(Due, Key)>,
    pub ready_at: HashMap<Key, Due>,
    /// Pods no node had room for.
    pub unscheduled: BTreeSet<Key>,
    /// Requests bound per node name.
    pub usage: HashMap<String, Usage>,
    /// What each node offers, by name.
    pub allocatable: HashMap<String, Usage>,
    /// Capacity came free or was added: try the unscheduled pods again.
    pub retry_unscheduled: bool,
    /// Event keys, oldest first, to cap how many are kept.
    pub event_order: VecDeque<Key>,
    pub next_hpa_sync: Option<Instant>,
    pub next_ip: u32,

    // Chaos faults in force on this cluster (faults.rs).
    /// Deployments under a bad rollout: their new pods crash-loop.
    pub bad_rollouts: BTreeSet<Key>,
    /// Pods crash-looping, and when each restarts next.
    pub crashing: BTreeMap<Key, Instant>,
    /// Slow nodes: name -> the fraction of allocatable CPU in use.
    pub slow_nodes: HashMap<String, f64>,
}

impl Store {
    pub fn new(seed: u64) -> Self {
        let (tx, _) = broadcast::channel(BROADCAST);
        Self {
            rv: 0,
            namespaces: Table::default(),
            nodes: Table::default(),
            pods: Table::default(),
            events: Table::default(),
            deployments: Table::default(),
            replicasets: Table::default(),
            hpas: Table::default(),
            history: VecDeque::new(),
            compacted: 0,
            tx,
            rng: fastrand::Rng::with_seed(seed),
            dirty: BTreeSet::new(),
            dirty_hpas: BTreeSet::new(),
            ready_queue: BTreeSet::new(),
            ready_at: HashMap::new(),
            unscheduled: BTreeSet::new(),
            usage: HashMap::new(),
            allocatable: HashMap::new(),
            retry_unscheduled: false,
            event_order: VecDeque::new(),
            next_hpa_sync: None,
            next_ip: 0,
            bad_rollouts: BTreeSet::new(),
            crashing: BTreeMap::new(),
            slow_nodes: HashMap::new(),
        }
    }

    /// Forgets the history: a watch must start at the current version. Used
    /// once the generated initial state is in.
    pub fn compact(&mut self) {
        self.history.clear();
        self.compacted = self.rv;
    }

    pub fn oldest_watchable(&self) -> u64 {
        self.compacted
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Change>> {
        self.tx.subscribe()
    }

    /// Changes after `rv`, oldest first.
    pub fn changes_after(&self, rv: u64) -> Vec<Arc<Change>> {
        let start = self.history.partition_point(|c| c.rv <= rv);
        self.history.range(start..).cloned().collect()
    }

    fn record(&mut self, event: EventType, object: AnyObject) {
        let change = Arc::new(Change {
            rv: self.rv,
            event,
            object,
        });
        if self.history.len() == HISTORY {
            if let Some(old) = self.history.pop_front() {
                self.compacted = old.rv;
            }
        }
        self.history.push_back(change.clone());
        // No receivers is fine: nobody watches.
        let _ = self.tx.send(change);
    }

    /// Stores `obj` (new or replacing) with the next resourceVersion, and
    /// records the change. The caller has done every check.
    pub fn put<K: Object>(&mut self, mut obj: K) -> Arc<K> {
        self.rv += 1;
        obj.metadata_mut().resource_version = Some(self.rv.to_string());
        let obj = Arc::new(obj);
        let old = K::table_mut(self).insert(obj.clone());
        let event = if old.is_some() {
            EventType::Modified
        } else {
            EventType::Added
        };
        self.record(event, K::wrap(obj.clone()));
        obj
    }

    /// Removes an object; the DELETED event carries the deletion's version.
    pub fn remove<K: Object>(&mut self, ns: &str, name: &str) -> Option<Arc<K>> {
        let key = (ns.to_string(), name.to_string());
        let old = K::table_mut(self).remove(&key)?;
        self.rv += 1;
        let mut gone = (*old).clone();
        gone.metadata_mut().resource_version = Some(self.rv.to_string());
        let gone = Arc::new(gone);
        self.record(EventType::Deleted, K::wrap(gone.clone()));
        Some(gone)
    }

    /// A fresh UUID-shaped uid from the cluster's RNG.
    pub fn uid(&mut self) -> String {
        let r = &mut self.rng;
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            r.u32(..),
            r.u16(..),
            r.u16(..0x1000),
            0x8000 | r.u16(..0x4000),
            r.u64(..1 << 48)
        )
    }

    /// `n` lowercase alphanumerics, as the apiserver's generateName suffix
    /// (no vowels, so that no words form).
    pub fn suffix(&mut self, n: usize) -> String {
        const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
        (0..n)
            .map(|_| char::from(ALPHABET[self.rng.usize(..ALPHABET.len())]))
            .collect()
    }
}

/// Unix seconds as a k8s `Time`.
pub(crate) fn time(unix: u64) -> Time {
    let secs = i64::try_from(unix).unwrap_or(i64::MAX);
    Time(Timestamp::from_second(secs).unwrap_or(Timestamp::UNIX_EPOCH))
}

pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
