/*
 * A YAML document as a small tree of nodes that remember where they were
 * written (libyaml marks, made 1-based). Private to config/: the loader
 * builds the tree with config_tree_parse(), walks it against its key
 * tables, and frees it.
 */
#ifndef CONFIG_TREE_H
#define CONFIG_TREE_H

#include <stdbool.h>
#include <stddef.h>

/* Deepest nesting accepted; a config needs four levels. */
#define CONFIG_TREE_DEPTH_MAX	32

enum config_node_type {
	CONFIG_NODE_SCALAR = 0,
	CONFIG_NODE_SEQ,
	CONFIG_NODE_MAP,
};

struct config_node {
	enum config_node_type	 type;
	unsigned		 line;		/* 1-based */
	unsigned		 col;		/* 1-based */
	/* Scalars: the text (owned, NUL-terminated; len excludes the NUL
	 * and may be less than strlen if the text holds a NUL). */
	char			*str;
	size_t			 len;
	bool			 is_plain;	/* unquoted: may be a number,
						 * a bool or null */
	/* Sequences: items[0..n). Mappings: items[2i] is a key and
	 * items[2i+1] its value, for i in [0..n/2). Owned. */
	struct config_node	**items;
	size_t			 n;
	size_t			 cap;		/* items allocated */
};

/*
 * Parse one YAML document from buf (len bytes, need not be
 * NUL-terminated). Returns the root node (owned by the caller; free with
 * config_tree_free()), or NULL with the problem in *line, *col (1-based,
 * 0 if unknown) and msg (cap bytes). An empty document is an error.
 * Aliases, and a second document, are refused: a config needs neither,
 * and refusing aliases bounds the work a hostile file can cause.
 */
struct config_node *config_tree_parse(const char *buf, size_t len,
    unsigned *line, unsigned *col, char *msg, size_t cap);

/*
 * Allocation within config/: the libc functions, except that a test can
 * make the Nth call from now fail by setting config_alloc_fail_at to N
 * (0, the default, never fails), to walk every out-of-memory path.
 */
extern unsigned long config_alloc_fail_at;
void *config_malloc(size_t size);
void *config_calloc(size_t n, size_t size);
void *config_realloc(void *p, size_t size);
void *config_reallocarray(void *p, size_t n, size_t size);
char *config_strdup(const char *s);

/* Free a tree; accepts NULL. */
void config_tree_free(struct config_node *node);

/* A printable name for a node type ("a string", "a list", "a mapping"). */
const char *config_node_type_name(enum config_node_type type);

#endif /* CONFIG_TREE_H */
