//! A bounded copy of a [`CallTree`], for holders that keep trees around
//! (the trace page's ring): the first nodes in depth-first order, and a root
//! name cut to a length.

use std::borrow::Cow;

use crate::tree::{CallTree, RootName, NO_EXTRA};

/// What [`CallTree::truncated`] left out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Dropped {
    /// Nodes past the cap.
    pub(crate) nodes: usize,
    /// The calls those nodes stood for (aggregates count all theirs).
    pub(crate) calls: u64,
}

impl CallTree {
    /// A copy with at most `max_nodes` nodes (at least the root) and a root
    /// name of at most `max_name` bytes (cut on a character boundary).
    ///
    /// Nodes are kept in depth-first pre-order, so every kept node's parent
    /// is kept; each kept subtree is cut where the cap falls.
    pub(crate) fn truncated(&self, max_nodes: usize, max_name: usize) -> (CallTree, Dropped) {
        let keep = max_nodes.clamp(1, self.nodes.len());
        let dropped = Dropped {
            nodes: self.nodes.len() - keep,
            calls: self.nodes[keep..].iter().map(|n| n.calls).sum(),
        };
        let mut nodes = self.nodes[..keep].to_vec();
        // The kept nodes' annotations only, renumbered.
        let mut extras = Vec::new();
        for (index, node) in nodes.iter_mut().enumerate() {
            // A subtree is the range [index, index + subtree): intersected
            // with the kept prefix it is still one.
            let room = u32::try_from(keep - index).unwrap_or(u32::MAX);
            node.subtree = node.subtree.min(room);
            if let Some(extra) = self.extras.get(node.extra as usize) {
                node.extra = u32::try_from(extras.len()).unwrap_or(NO_EXTRA);
                extras.push(extra.clone());
            }
        }
        let mut root = self.root.clone();
        if root.name.len() > max_name {
            let mut end = max_name;
            while !root.name.is_char_boundary(end) {
                end -= 1;
            }
            root.name = RootName::Text(Cow::Owned(root.name[..end].to_owned()));
        }
        let tree = CallTree::from_parts(root, nodes, self.uncounted, extras);
        (tree, dropped)
    }
}

#[cfg(test)]
mod tests {
    use super::Dropped;
    use crate::tree::{CallTree, NodeData, RootInfo, RootName, NO_EXTRA, NO_TIME};
    use std::borrow::Cow;

    fn node(depth: u32, subtree: u32, calls: u64) -> NodeData {
        NodeData {
            name: "f",
            module: "m",
            depth,
            subtree,
            start_ticks: NO_TIME,
            wall_nanos: 0,
            own_nanos: 0,
            busy_nanos: NO_TIME,
            outcome: None,
            slow: false,
            aggregate: calls > 1,
            calls,
            failures: 0,
            extra: NO_EXTRA,
        }
    }

    /// root(a(b, c), d ×5)
    fn tree(name: &'static str) -> CallTree {
        let root = RootInfo {
            name: RootName::Text(Cow::Borrowed(name)),
            ..RootInfo::default()
        };
        let nodes = vec![
            node(0, 5, 1),
            node(1, 3, 1),
            node(2, 1, 1),
            node(2, 1, 1),
            node(1, 1, 5),
        ];
        CallTree::from_parts(root, nodes, 2, Vec::new())
    }

    fn shape(tree: &CallTree) -> Vec<(usize, usize)> {
        tree.iter()
            .map(|n| (n.depth(), n.children().count()))
            .collect()
    }

    #[test]
    fn a_tree_under_the_cap_is_copied_whole() {
        let (copy, dropped) = tree("r").truncated(10, 64);
        assert_eq!(dropped, Dropped::default());
        assert_eq!(shape(&copy), shape(&tree("r")));
        assert_eq!(copy.call_count(), 1 + 3 + 5 + 2);
    }

    #[test]
    fn past_the_cap_the_first_nodes_are_kept_with_their_subtrees_cut() {
        let (copy, dropped) = tree("r").truncated(3, 64);
        assert_eq!(shape(&copy), [(0, 1), (1, 1), (2, 0)]);
        assert_eq!(dropped, Dropped { nodes: 2, calls: 6 });
        assert_eq!(copy.call_count() + dropped.calls, tree("r").call_count());
        let (root_only, dropped) = tree("r").truncated(0, 64);
        assert_eq!(shape(&root_only), [(0, 0)]);
        assert_eq!(dropped.nodes, 4);
    }

    #[test]
    fn a_long_root_name_is_cut_on_a_character_boundary() {
        let (copy, _) = tree("ab\u{e9}cd").truncated(10, 3);
        assert_eq!(copy.root().name(), "ab");
        let (copy, _) = tree("ab\u{e9}cd").truncated(10, 4);
        assert_eq!(copy.root().name(), "ab\u{e9}");
    }

    #[test]
    fn kept_nodes_keep_their_annotations_and_cut_ones_leave_theirs() {
        use crate::tree::extra::NodeExtra;
        let annotated = |text: &str| NodeExtra {
            error: Some(text.into()),
            ..NodeExtra::default()
        };
        let mut nodes = vec![
            node(0, 5, 1),
            node(1, 3, 1),
            node(2, 1, 1),
            node(2, 1, 1),
            node(1, 1, 1),
        ];
        nodes[2].extra = 0;
        nodes[4].extra = 1;
        let root = RootInfo {
            name: RootName::Text(Cow::Borrowed("r")),
            ..RootInfo::default()
        };
        let tree = CallTree::from_parts(root, nodes, 0, vec![annotated("kept"), annotated("cut")]);
        let (copy, dropped) = tree.truncated(3, 64);
        assert_eq!(dropped.nodes, 2);
        let errors: Vec<_> = copy.iter().map(|n| n.error()).collect();
        assert_eq!(errors, [None, None, Some("kept")]);
        assert_eq!(copy.extras.len(), 1);
    }
}
