// Copies a tree-sitter tree into a flat array in one pass: every visible node once, in document
// order, with its kind, field, flags, byte range, points, parent, first child and next sibling.
//
// Why this reads tree-sitter's internal structures: through the public API every step costs
// 60-70 ns (a `TSTreeCursor` step re-derives alias sequences and positions; `ts_node_child(i)`
// starts over from the first child), and elixirscope's extractor, metrics and rules ask for
// children, fields and parents millions of times per run. Walking the subtrees directly visits
// each once (its cost is mostly waiting on memory for subtrees the parse left scattered), and
// everything after it reads a plain array. The logic mirrors
// `ts_tree_cursor_child_iterator_next` and `ts_tree_cursor_current_field_id` (tree_cursor.c) of
// the tree-sitter version pinned in Cargo.toml; `syntax::tree`'s tests compare the result with
// the public API node by node on every fixture.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "./subtree.h"
#include "./tree.h"
#include "./language.h"
#include "./length.h"

typedef struct {
  uint32_t start_byte;
  uint32_t end_byte;
  uint32_t start_row;
  uint32_t start_column;
  uint32_t end_row;
  uint32_t end_column;
  uint32_t parent;
  uint32_t first_child;
  uint32_t next_sibling;
  uint16_t symbol;
  uint16_t field;
  uint8_t flags;
} EsFlatNode;

enum {
  ES_NAMED = 1,
  ES_MISSING = 2,
  ES_EXTRA = 4,
  ES_HAS_ERROR = 8,
  ES_ERROR = 16,
};

typedef struct {
  Subtree parent;
  Length position;
  uint32_t child_index;
  uint32_t structural_child_index;
  const TSSymbol *alias_sequence;
  // The visible node that the children of this subtree belong to.
  uint32_t owner;
  // For a hidden subtree: the field its visible descendants inherit when their own production
  // gives them none.
  TSFieldId inherited_field;
  bool visible;
} EsFrame;

static inline TSSymbol es_public_symbol(const TSLanguage *language, TSSymbol symbol) {
  if (symbol == ts_builtin_sym_error) return symbol;
  return language->public_symbol_map[symbol];
}

static inline bool es_symbol_named(const TSLanguage *language, TSSymbol symbol) {
  if (symbol == ts_builtin_sym_error) return true;
  if (symbol == ts_builtin_sym_error_repeat) return false;
  return language->symbol_metadata[symbol].named;
}

static inline void es_emit(
  const TSLanguage *language, EsFlatNode *out, Subtree subtree, Length position,
  TSSymbol alias, TSFieldId field, uint32_t parent
) {
  Length end = length_add(position, ts_subtree_size(subtree));
  TSSymbol symbol = es_public_symbol(language, alias ? alias : ts_subtree_symbol(subtree));
  bool named = alias ? es_symbol_named(language, alias) : ts_subtree_named(subtree);
  uint8_t flags = 0;
  if (named) flags |= ES_NAMED;
  if (ts_subtree_missing(subtree)) flags |= ES_MISSING;
  if (ts_subtree_extra(subtree)) flags |= ES_EXTRA;
  if (ts_subtree_error_cost(subtree) > 0) flags |= ES_HAS_ERROR;
  if (symbol == ts_builtin_sym_error) flags |= ES_ERROR;
  out->start_byte = position.bytes;
  out->end_byte = end.bytes;
  out->start_row = position.extent.row;
  out->start_column = position.extent.column;
  out->end_row = end.extent.row;
  out->end_column = end.extent.column;
  out->parent = parent;
  out->first_child = UINT32_MAX;
  out->next_sibling = UINT32_MAX;
  out->symbol = symbol;
  out->field = field;
  out->flags = flags;
}

static inline EsFrame es_frame(
  const TSLanguage *language, Subtree subtree, Length position, uint32_t owner,
  TSFieldId inherited_field, bool visible
) {
  return (EsFrame) {
    .parent = subtree,
    .position = position,
    .child_index = 0,
    .structural_child_index = 0,
    .alias_sequence = ts_language_alias_sequence(language, subtree.ptr->production_id),
    .owner = owner,
    .inherited_field = inherited_field,
    .visible = visible,
  };
}

// Depth of subtrees `es_flatten` keeps on the C stack before moving its stacks to the heap.
#define ES_INLINE_DEPTH 64

// Doubles both stacks, moving them to the heap the first time. False if memory ran out (the
// stacks are then as they were).
static bool es_grow(
  EsFrame **stack, uint32_t **last_child, uint32_t *capacity, const EsFrame *inline_stack
) {
  uint32_t grown_capacity = *capacity * 2;
  bool on_heap = *stack != inline_stack;
  EsFrame *grown = malloc(grown_capacity * sizeof(EsFrame));
  uint32_t *grown_last = malloc(grown_capacity * sizeof(uint32_t));
  if (!grown || !grown_last) {
    free(grown);
    free(grown_last);
    return false;
  }
  memcpy(grown, *stack, *capacity * sizeof(EsFrame));
  memcpy(grown_last, *last_child, *capacity * sizeof(uint32_t));
  if (on_heap) {
    free(*stack);
    free(*last_child);
  }
  *stack = grown;
  *last_child = grown_last;
  *capacity = grown_capacity;
  return true;
}

static void es_release(EsFrame *stack, uint32_t *last_child, const EsFrame *inline_stack) {
  if (stack != inline_stack) {
    free(stack);
    free(last_child);
  }
}

// The number of visible nodes `es_flatten` writes for `tree`.
uint32_t es_flat_node_count(const TSTree *tree) {
  Subtree root = tree->root;
  uint32_t count = 1;
  if (ts_subtree_child_count(root) > 0) count += root.ptr->visible_descendant_count;
  return count;
}

// Writes the visible nodes of `tree` to `out` in document order (the root first). Returns the
// number written, or UINT32_MAX if `capacity` was too small or memory ran out.
//
// The subtree being iterated lives in local variables (registers); the stack holds only the
// subtrees being iterated further up, saved on the way down and restored on the way up.
uint32_t es_flatten(const TSTree *tree, EsFlatNode *out, uint32_t capacity) {
  const TSLanguage *language = tree->language;
  Subtree root = tree->root;
  if (capacity == 0) return UINT32_MAX;
  Length root_position = ts_subtree_padding(root);
  es_emit(language, &out[0], root, root_position, 0, 0, UINT32_MAX);
  uint32_t count = 1;
  if (ts_subtree_child_count(root) == 0) return count;

  // The stacks start on the C stack and move to the heap only for trees deeper than that:
  // a 3.5 KB malloc per file is a "large" request for glibc, which then consolidates its fast
  // bins, and the parse of the next file pays for it.
  EsFrame inline_stack[ES_INLINE_DEPTH];
  uint32_t inline_last_child[ES_INLINE_DEPTH];
  uint32_t stack_capacity = ES_INLINE_DEPTH;
  uint32_t depth = 0;
  EsFrame *stack = inline_stack;
  // The last child placed so far of each visible ancestor of the current subtree (the owner
  // of the current subtree last): its next sibling is the next child that owner gets.
  uint32_t *last_child = inline_last_child;
  uint32_t visible_depth = 0;
  last_child[0] = UINT32_MAX;
  EsFrame frame = es_frame(language, root, root_position, 0, 0, true);
  const Subtree *children = ts_subtree_children(frame.parent);
  uint32_t child_count = frame.parent.ptr->child_count;
  const TSFieldMapEntry *field_map, *field_map_end;
  ts_language_field_map(language, frame.parent.ptr->production_id, &field_map, &field_map_end);

  for (;;) {
    if (frame.child_index == child_count) {
      if (depth == 0) break;
      if (frame.visible) visible_depth--;
      frame = stack[--depth];
      children = ts_subtree_children(frame.parent);
      child_count = frame.parent.ptr->child_count;
      ts_language_field_map(
        language, frame.parent.ptr->production_id, &field_map, &field_map_end
      );
      continue;
    }
    Subtree child = children[frame.child_index];
    TSSymbol alias = 0;
    TSFieldId field = 0;
    bool extra = ts_subtree_extra(child);
    if (!extra) {
      if (frame.alias_sequence) alias = frame.alias_sequence[frame.structural_child_index];
      for (const TSFieldMapEntry *map = field_map; map < field_map_end; map++) {
        if (!map->inherited && map->child_index == frame.structural_child_index) {
          field = map->field_id;
          break;
        }
      }
      if (!field && !frame.visible) field = frame.inherited_field;
      frame.structural_child_index++;
    }
    if (frame.child_index > 0) {
      frame.position = length_add(frame.position, ts_subtree_padding(child));
    }
    Length child_position = frame.position;
    frame.position = length_add(frame.position, ts_subtree_size(child));
    frame.child_index++;

    bool visible = ts_subtree_visible(child) || alias;
    uint32_t child_owner = frame.owner;
    if (visible) {
      if (count == capacity) {
        es_release(stack, last_child, inline_stack);
        return UINT32_MAX;
      }
      es_emit(language, &out[count], child, child_position, alias, field, frame.owner);
      EsFlatNode *owner = &out[frame.owner];
      if (last_child[visible_depth] == UINT32_MAX) {
        owner->first_child = count;
      } else {
        out[last_child[visible_depth]].next_sibling = count;
      }
      last_child[visible_depth] = count;
      child_owner = count;
      count++;
    }
    if (ts_subtree_child_count(child) > 0) {
      if (depth + 1 >= stack_capacity) {
        if (!es_grow(&stack, &last_child, &stack_capacity, inline_stack)) {
          es_release(stack, last_child, inline_stack);
          return UINT32_MAX;
        }
      }
      stack[depth++] = frame;
      if (visible) last_child[++visible_depth] = UINT32_MAX;
      frame = es_frame(language, child, child_position, child_owner, visible ? 0 : field, visible);
      children = ts_subtree_children(frame.parent);
      child_count = frame.parent.ptr->child_count;
      ts_language_field_map(
        language, frame.parent.ptr->production_id, &field_map, &field_map_end
      );
    }
  }
  es_release(stack, last_child, inline_stack);
  return count;
}
