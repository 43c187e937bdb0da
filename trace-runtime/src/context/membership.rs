//! Joining a request's tree when a call starts.

use std::borrow::Cow;
use std::sync::Arc;

use crate::callsite::Callsite;
use crate::clock::Instant;
use crate::config;
use crate::context::frame::Frame;
use crate::context::request::{NodeId, Request};
use crate::tree::sink;

/// A new request rooted at `name`, or `None` when trees are off or nobody
/// would receive its tree. The one place requests are created.
pub(crate) fn new_request(
    name: Cow<'static, str>,
    module: &'static str,
    start: Instant,
) -> Option<Arc<Request>> {
    (config::trees_enabled() && sink::wants_trees())
        .then(|| Arc::new(Request::new(name, module, start)))
}

/// Where a starting call of `site`, whose caller is `parent`, goes in a tree.
pub(crate) enum Place {
    /// No tree: trees are off, or nobody would receive this request's tree.
    Untracked,
    /// A child node of the parent's request, which the parent keeps alive.
    Child(*const Request, NodeId),
    /// The root of a new request, owned by this call.
    Root(Arc<Request>),
}

impl Place {
    /// Opens a node for a call of `site` under `parent`.
    #[inline]
    pub(crate) fn open(parent: Frame, site: &'static Callsite, start: Instant) -> Place {
        if !config::trees_enabled() {
            return Place::Untracked;
        }
        // SAFETY: `parent` is the current frame.
        if let Some(request) = unsafe { parent.request() } {
            return Place::Child(parent.request, request.open(parent.node, site, start));
        }
        // A caller without a request has chosen not to collect a tree.
        if parent.site.is_some() {
            return Place::Untracked;
        }
        match new_request(Cow::Borrowed(site.name()), site.module(), start) {
            Some(request) => Place::Root(request),
            None => Place::Untracked,
        }
    }

    /// The request pointer and node for this call's own frame.
    #[inline]
    pub(crate) fn frame_parts(&self) -> (*const Request, NodeId) {
        match self {
            Place::Untracked => (std::ptr::null(), NodeId::ROOT),
            Place::Child(request, node) => (*request, *node),
            Place::Root(request) => (Arc::as_ptr(request), NodeId::ROOT),
        }
    }

    /// Turns a borrowed child place into one that keeps its request alive, for
    /// calls that may outlive the current frame (async calls).
    #[inline]
    pub(crate) fn into_owned(self) -> OwnedPlace {
        match self {
            Place::Untracked => OwnedPlace(None, NodeId::ROOT),
            Place::Child(request, node) => {
                // SAFETY: `request` comes from `Arc::as_ptr` of an `Arc` the
                // current frame keeps alive, so the count is at least one.
                let request = unsafe {
                    Arc::increment_strong_count(request);
                    Arc::from_raw(request)
                };
                OwnedPlace(Some(request), node)
            }
            Place::Root(request) => OwnedPlace(Some(request), NodeId::ROOT),
        }
    }
}

/// A place in a tree whose request is kept alive by this value; `Send`.
pub(crate) struct OwnedPlace(pub(crate) Option<Arc<Request>>, pub(crate) NodeId);

impl OwnedPlace {
    /// The frame a call at this place makes current.
    #[inline]
    pub(crate) fn frame(&self, site: Option<&'static Callsite>) -> Frame {
        Frame {
            site,
            request: self.0.as_ref().map_or(std::ptr::null(), Arc::as_ptr),
            node: self.1,
        }
    }
}
