//! Strongly connected components by Tarjan's algorithm, iterative: a dependency chain through
//! thousands of modules must not overflow the stack.

/// The components of a directed graph given as adjacency lists, each component's nodes in the
/// order Tarjan's algorithm pops them, components in reverse topological order.
pub(crate) fn strongly_connected(adjacency: &[Vec<usize>]) -> Vec<Vec<usize>> {
    const UNVISITED: usize = usize::MAX;
    let count = adjacency.len();
    let mut index = vec![UNVISITED; count];
    let mut lowlink = vec![0usize; count];
    let mut on_stack = vec![false; count];
    let mut stack: Vec<usize> = Vec::new();
    let mut components = Vec::new();
    let mut next_index = 0usize;
    // The explicit call stack: (node, position of the next edge to follow).
    let mut frames: Vec<(usize, usize)> = Vec::new();
    for root in 0..count {
        if index[root] != UNVISITED {
            continue;
        }
        index[root] = next_index;
        lowlink[root] = next_index;
        next_index += 1;
        stack.push(root);
        on_stack[root] = true;
        frames.push((root, 0));
        while let Some(frame) = frames.last_mut() {
            let node = frame.0;
            if let Some(&successor) = adjacency[node].get(frame.1) {
                frame.1 += 1;
                if index[successor] == UNVISITED {
                    index[successor] = next_index;
                    lowlink[successor] = next_index;
                    next_index += 1;
                    stack.push(successor);
                    on_stack[successor] = true;
                    frames.push((successor, 0));
                } else if on_stack[successor] {
                    lowlink[node] = lowlink[node].min(index[successor]);
                }
                continue;
            }
            frames.pop();
            if let Some(&(parent, _)) = frames.last() {
                lowlink[parent] = lowlink[parent].min(lowlink[node]);
            }
            if lowlink[node] == index[node] {
                let mut component = Vec::new();
                while let Some(member) = stack.pop() {
                    on_stack[member] = false;
                    component.push(member);
                    if member == node {
                        break;
                    }
                }
                components.push(component);
            }
        }
    }
    components
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(mut components: Vec<Vec<usize>>) -> Vec<Vec<usize>> {
        for component in &mut components {
            component.sort_unstable();
        }
        components.sort();
        components
    }

    #[test]
    fn finds_cycles_and_singletons() {
        // 0 → 1 → 2 → 0, 2 → 3, 3 → 4 → 3, 5 alone.
        let adjacency = vec![vec![1], vec![2], vec![0, 3], vec![4], vec![3], vec![]];
        assert_eq!(
            sorted(strongly_connected(&adjacency)),
            vec![vec![0, 1, 2], vec![3, 4], vec![5]]
        );
    }

    #[test]
    fn self_loop_is_its_own_component() {
        assert_eq!(strongly_connected(&[vec![0]]), vec![vec![0]]);
    }

    #[test]
    fn a_long_chain_and_a_long_cycle_do_not_recurse() {
        let length = 200_000;
        let chain: Vec<Vec<usize>> = (0..length)
            .map(|i| if i + 1 < length { vec![i + 1] } else { vec![] })
            .collect();
        assert_eq!(strongly_connected(&chain).len(), length);
        let cycle: Vec<Vec<usize>> = (0..length).map(|i| vec![(i + 1) % length]).collect();
        let components = strongly_connected(&cycle);
        assert_eq!(components.len(), 1);
        assert_eq!(components[0].len(), length);
    }
}
