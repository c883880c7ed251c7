const NODE = 32;
/** Levels of the tree one stored page covers: a subtree of up to 255 nodes (8 KiB). */
export const PAGE_LEVELS = 8;

/**
 * Stored layout of a reward tree: the node array cut into subtrees of PAGE_LEVELS levels ("pages"), bands
 * aligned to the leaves so bottom pages are full. A page is keyed by its root's tree index and holds, in slot 0,
 * the sibling of its root and, from slot 1, its nodes in heap order. A proof for a tree of n leaves reads
 * ceil(depth / PAGE_LEVELS) pages (3 for 600,000 devices) and never rebuilds the tree.
 */
export interface TreePage {
  pageRoot: number;
  nodes: Buffer;
}

function depthOf(index: number): number {
  return 31 - Math.clz32(index + 1);
}

function sibling(index: number): number {
  return index % 2 === 1 ? index + 1 : index - 1;
}

function parent(index: number): number {
  return (index - 1) >> 1;
}

/** The depth at which the band holding nodes of `depth` starts, for a tree whose deepest level is `maxDepth`. */
function bandStart(depth: number, maxDepth: number): number {
  const top = (maxDepth + 1) % PAGE_LEVELS || PAGE_LEVELS;
  return depth < top ? 0 : top + Math.floor((depth - top) / PAGE_LEVELS) * PAGE_LEVELS;
}

/** The root of the page that holds node `index`. */
export function pageRootOf(index: number, nodeCount: number): number {
  const depth = depthOf(index);
  const start = bandStart(depth, depthOf(nodeCount - 1));
  return ((index + 1) >> (depth - start)) - 1;
}

function slotOf(index: number, pageRoot: number): number {
  const rel = depthOf(index) - depthOf(pageRoot);
  return (1 << rel) + (index + 1 - ((pageRoot + 1) << rel));
}

/** Cuts a tree's node array into pages; every node lands in exactly one page. */
export function* cutTreePages(nodes: Buffer, nodeCount: number): Generator<TreePage> {
  const maxDepth = depthOf(nodeCount - 1);
  for (let start = 0; start <= maxDepth; ) {
    const next = start === 0 ? (maxDepth + 1) % PAGE_LEVELS || PAGE_LEVELS : start + PAGE_LEVELS;
    const levels = next - start;
    for (let root = (1 << start) - 1; root <= Math.min((1 << (start + 1)) - 2, nodeCount - 1); root++) {
      const page = Buffer.alloc((1 << levels) << 5);
      if (root > 0) nodes.copy(page, 0, sibling(root) * NODE, sibling(root) * NODE + NODE);
      let used = 1;
      for (let rel = 0; rel < levels; rel++) {
        const first = ((root + 1) << rel) - 1;
        for (let offset = 0; offset < 1 << rel && first + offset < nodeCount; offset++) {
          const slot = (1 << rel) + offset;
          nodes.copy(page, slot * NODE, (first + offset) * NODE, (first + offset + 1) * NODE);
          used = Math.max(used, slot + 1);
        }
      }
      yield { pageRoot: root, nodes: page.subarray(0, used * NODE) };
    }
    start = next;
  }
}

/** The pages a proof for the node at `leafIndex` needs, from the leaf's page up to the root page. */
export function pagesForProof(leafIndex: number, nodeCount: number): number[] {
  const roots: number[] = [];
  for (let k = leafIndex; ; ) {
    const root = pageRootOf(k, nodeCount);
    roots.push(root);
    if (root === 0) return roots;
    k = parent(root);
  }
}

/** The proof (sibling hashes from the leaf up, 0x hex) for the node at `leafIndex`, read from its pages. */
export function proofFromPages(
  leafIndex: number,
  nodeCount: number,
  pages: ReadonlyMap<number, Uint8Array>,
): string[] {
  const proof: string[] = [];
  for (let k = leafIndex; k > 0; k = parent(k)) {
    const root = pageRootOf(k, nodeCount);
    const page = pages.get(root);
    if (!page) throw new Error(`reward tree page ${root} is missing`);
    const slot = k === root ? 0 : slotOf(sibling(k), root);
    const bytes = page.subarray(slot * NODE, slot * NODE + NODE);
    if (bytes.length !== NODE) throw new Error(`reward tree page ${root} is truncated`);
    proof.push(`0x${Buffer.from(bytes.buffer, bytes.byteOffset, NODE).toString("hex")}`);
  }
  return proof;
}
