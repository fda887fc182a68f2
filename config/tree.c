/*
 * YAML (libyaml event API) -> a tree of config_node with positions.
 */
#include "config/tree.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

struct tree_builder {
	struct config_node	*root;
	struct config_node	*stack[CONFIG_TREE_DEPTH_MAX];
	size_t			 depth;
	unsigned		*line;
	unsigned		*col;
	char			*msg;
	size_t			 cap;
};

unsigned long config_alloc_fail_at;

/* True if this allocation is the one a test asked to fail. */
static bool
alloc_fails(void)
{
	if (config_alloc_fail_at == 0)
		return false;
	if (--config_alloc_fail_at > 0)
		return false;
	errno = ENOMEM;
	return true;
}

void *
config_malloc(size_t size)
{
	return alloc_fails() ? NULL : malloc(size);
}

void *
config_calloc(size_t n, size_t size)
{
	return alloc_fails() ? NULL : calloc(n, size);
}

void *
config_realloc(void *p, size_t size)
{
	return alloc_fails() ? NULL : realloc(p, size);
}

void *
config_reallocarray(void *p, size_t n, size_t size)
{
	return alloc_fails() ? NULL : reallocarray(p, n, size);
}

char *
config_strdup(const char *s)
{
	return alloc_fails() ? NULL : strdup(s);
}

const char *
config_node_type_name(enum config_node_type type)
{
	switch (type) {
	case CONFIG_NODE_SCALAR:
		return "a scalar";
	case CONFIG_NODE_SEQ:
		return "a list";
	case CONFIG_NODE_MAP:
		return "a mapping";
	}
	return "a node";
}

void
config_tree_free(struct config_node *node)
{
	size_t i;

	if (node == NULL)
		return;
	for (i = 0; i < node->n; i++)
		config_tree_free(node->items[i]);
	free(node->items);
	free(node->str);
	free(node);
}

static void
tree_fail(struct tree_builder *b, const yaml_mark_t *mark, const char *what,
    const char *detail)
{
	*b->line = mark != NULL ? (unsigned)mark->line + 1 : 0;
	*b->col = mark != NULL ? (unsigned)mark->column + 1 : 0;
	if (detail != NULL)
		snprintf(b->msg, b->cap, "%s (%s)", what, detail);
	else
		snprintf(b->msg, b->cap, "%s", what);
}

/* Append child to the open container, or make it the root. */
static int
tree_attach(struct tree_builder *b, struct config_node *child)
{
	struct config_node *parent, **items;
	size_t ncap;

	if (b->depth == 0) {
		if (b->root != NULL) {
			config_tree_free(child);
			return -1;
		}
		b->root = child;
		return 0;
	}
	parent = b->stack[b->depth - 1];
	if (parent->n == parent->cap) {
		ncap = parent->cap == 0 ? 4 : parent->cap * 2;
		items = config_reallocarray(parent->items, ncap,
		    sizeof(*items));
		if (items == NULL) {
			config_tree_free(child);
			return -1;
		}
		parent->items = items;
		parent->cap = ncap;
	}
	parent->items[parent->n++] = child;
	return 0;
}

static struct config_node *
tree_node_new(enum config_node_type type, const yaml_mark_t *mark)
{
	struct config_node *node;

	if ((node = config_calloc(1, sizeof(*node))) == NULL)
		return NULL;
	node->type = type;
	node->line = (unsigned)mark->line + 1;
	node->col = (unsigned)mark->column + 1;
	return node;
}

/* Handle one event. Returns 1 at the end of the stream, 0 to go on, -1 on
 * error (message set). */
static int
tree_event(struct tree_builder *b, const yaml_event_t *ev, int *ndocs)
{
	struct config_node *node;
	enum config_node_type type;

	switch (ev->type) {
	case YAML_STREAM_END_EVENT:
		return 1;
	case YAML_DOCUMENT_START_EVENT:
		if ((*ndocs)++ > 0) {
			tree_fail(b, &ev->start_mark,
			    "only one YAML document is allowed", NULL);
			return -1;
		}
		return 0;
	case YAML_ALIAS_EVENT:
		tree_fail(b, &ev->start_mark,
		    "YAML aliases are not supported", NULL);
		return -1;
	case YAML_SCALAR_EVENT:
		if ((node = tree_node_new(CONFIG_NODE_SCALAR,
		    &ev->start_mark)) == NULL)
			goto err_nomem;
		node->len = ev->data.scalar.length;
		if ((node->str = config_malloc(node->len + 1)) == NULL) {
			free(node);
			goto err_nomem;
		}
		memcpy(node->str, ev->data.scalar.value, node->len);
		node->str[node->len] = '\0';
		node->is_plain = ev->data.scalar.style ==
		    YAML_PLAIN_SCALAR_STYLE && ev->data.scalar.tag == NULL;
		if (tree_attach(b, node) == -1)
			goto err_nomem;
		return 0;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (b->depth >= CONFIG_TREE_DEPTH_MAX) {
			tree_fail(b, &ev->start_mark,
			    "YAML nested too deeply", NULL);
			return -1;
		}
		type = ev->type == YAML_SEQUENCE_START_EVENT ?
		    CONFIG_NODE_SEQ : CONFIG_NODE_MAP;
		if ((node = tree_node_new(type, &ev->start_mark)) == NULL)
			goto err_nomem;
		if (tree_attach(b, node) == -1)
			goto err_nomem;
		b->stack[b->depth++] = node;
		return 0;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		if (b->depth > 0)
			b->depth--;
		return 0;
	default:
		return 0;
	}

err_nomem:
	tree_fail(b, &ev->start_mark, "out of memory", NULL);
	return -1;
}

/* Position of a reader error (bad UTF-8, control character), which
 * libyaml reports as a byte offset rather than a mark. */
static void
tree_offset_mark(const char *buf, size_t len, size_t off, yaml_mark_t *mark)
{
	size_t i;

	memset(mark, 0, sizeof(*mark));
	for (i = 0; i < off && i < len; i++) {
		if (buf[i] == '\n') {
			mark->line++;
			mark->column = 0;
		} else
			mark->column++;
	}
}

struct config_node *
config_tree_parse(const char *buf, size_t len, unsigned *line, unsigned *col,
    char *msg, size_t cap)
{
	struct tree_builder b;
	yaml_parser_t parser;
	yaml_event_t ev;
	yaml_mark_t mark;
	int ndocs = 0, rc = 0;
	char what[160];

	memset(&b, 0, sizeof(b));
	b.line = line;
	b.col = col;
	b.msg = msg;
	b.cap = cap;
	*line = *col = 0;
	if (cap > 0)
		msg[0] = '\0';

	if (!yaml_parser_initialize(&parser)) {
		tree_fail(&b, NULL, "out of memory", NULL);
		return NULL;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	while (rc == 0) {
		if (!yaml_parser_parse(&parser, &ev)) {
			snprintf(what, sizeof(what), "YAML syntax error: %s",
			    parser.problem != NULL ? parser.problem :
			    "unknown problem");
			if (parser.error == YAML_READER_ERROR) {
				tree_offset_mark(buf, len,
				    parser.problem_offset, &mark);
				tree_fail(&b, &mark, what, NULL);
			} else
				tree_fail(&b, &parser.problem_mark, what,
				    parser.context);
			rc = -1;
			break;
		}
		rc = tree_event(&b, &ev, &ndocs);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	if (rc == -1) {
		config_tree_free(b.root);
		return NULL;
	}
	if (b.root == NULL || (b.root->type == CONFIG_NODE_SCALAR &&
	    b.root->is_plain && b.root->len == 0)) {
		config_tree_free(b.root);
		*line = *col = 1;
		snprintf(msg, cap, "the configuration is empty");
		return NULL;
	}
	return b.root;
}
