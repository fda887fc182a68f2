/*
 * config/tree: YAML text to a tree of config_node with 1-based positions.
 * The loader's error messages point at these positions, and the limits
 * here (no aliases, one document, CONFIG_TREE_DEPTH_MAX levels) are what
 * bound the work a hostile file can cause, so each is pinned down. Run
 * under ASan (make check) to show that no error path leaks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/tree.h"

struct parsed {
	struct config_node	*root;	/* owned */
	unsigned		 line;
	unsigned		 col;
	char			 msg[256];
};

static struct config_node *
parse(struct parsed *p, const char *yaml)
{
	memset(p, 0, sizeof(*p));
	p->root = config_tree_parse(yaml, strlen(yaml), &p->line, &p->col,
	    p->msg, sizeof(p->msg));
	return p->root;
}

/* Parse text that must be refused; the message must start with want. */
static void
parse_fails(const char *yaml, unsigned line, unsigned col, const char *want)
{
	struct parsed	p;

	assert_null(parse(&p, yaml));
	assert_int_equal(p.line, line);
	assert_int_equal(p.col, col);
	if (strncmp(p.msg, want, strlen(want)) != 0)
		fail_msg("message \"%s\", want \"%s...\"", p.msg, want);
}

/* The value of key in a mapping, or NULL. */
static const struct config_node *
map_value(const struct config_node *map, const char *key)
{
	size_t	i;

	assert_int_equal(map->type, CONFIG_NODE_MAP);
	assert_int_equal(map->n % 2, 0);
	for (i = 0; i < map->n; i += 2)
		if (strcmp(map->items[i]->str, key) == 0)
			return map->items[i + 1];
	return NULL;
}

static void
test_scalar_root(void **state)
{
	struct parsed	p;

	(void)state;
	assert_non_null(parse(&p, "hello\n"));
	assert_int_equal(p.root->type, CONFIG_NODE_SCALAR);
	assert_string_equal(p.root->str, "hello");
	assert_int_equal(p.root->len, 5);
	assert_true(p.root->is_plain);
	assert_int_equal(p.root->line, 1);
	assert_int_equal(p.root->col, 1);
	assert_int_equal(p.root->n, 0);
	assert_string_equal(p.msg, "");
	config_tree_free(p.root);
}

/* Quoted or tagged scalars are strings whatever they look like: only a
 * plain one may be read as a number, a bool or null. */
static void
test_scalar_styles(void **state)
{
	struct parsed			 p;
	const struct config_node	*v;

	(void)state;
	assert_non_null(parse(&p, "a: 1\nb: \"1\"\nc: '1'\nd: !!str 1\n"
	    "e: |\n  text\n"));
	assert_true(map_value(p.root, "a")->is_plain);
	assert_false(map_value(p.root, "b")->is_plain);
	assert_false(map_value(p.root, "c")->is_plain);
	assert_false(map_value(p.root, "d")->is_plain);
	v = map_value(p.root, "e");
	assert_false(v->is_plain);
	assert_string_equal(v->str, "text\n");
	config_tree_free(p.root);
}

/* A scalar may hold a NUL ("\0" in double quotes): len counts it, so the
 * loader can tell the text is not what strlen() sees. */
static void
test_scalar_with_nul(void **state)
{
	struct parsed	p;

	(void)state;
	assert_non_null(parse(&p, "k: \"a\\0b\"\n"));
	assert_int_equal(map_value(p.root, "k")->len, 3);
	assert_int_equal(strlen(map_value(p.root, "k")->str), 1);
	assert_memory_equal(map_value(p.root, "k")->str, "a\0b", 4);
	config_tree_free(p.root);
}

/* Mappings hold key, value pairs in order; every node has its position,
 * 1-based, of its first character. */
static void
test_mapping_positions(void **state)
{
	struct parsed			 p;
	const struct config_node	*store, *path, *list;

	(void)state;
	assert_non_null(parse(&p, "name: Acme\n"
	    "store:\n"
	    "  path: var/db\n"
	    "list: [ a, b ]\n"));
	assert_int_equal(p.root->type, CONFIG_NODE_MAP);
	assert_int_equal(p.root->n, 6);
	assert_string_equal(p.root->items[0]->str, "name");
	assert_string_equal(p.root->items[1]->str, "Acme");
	assert_int_equal(p.root->items[1]->line, 1);
	assert_int_equal(p.root->items[1]->col, 7);
	store = map_value(p.root, "store");
	assert_non_null(store);
	assert_int_equal(store->type, CONFIG_NODE_MAP);
	assert_int_equal(store->line, 3);
	assert_int_equal(store->col, 3);
	path = map_value(store, "path");
	assert_string_equal(path->str, "var/db");
	assert_int_equal(path->line, 3);
	assert_int_equal(path->col, 9);
	list = map_value(p.root, "list");
	assert_int_equal(list->type, CONFIG_NODE_SEQ);
	assert_int_equal(list->line, 4);
	assert_int_equal(list->col, 7);
	assert_int_equal(list->n, 2);
	assert_string_equal(list->items[0]->str, "a");
	assert_int_equal(list->items[1]->col, 12);
	config_tree_free(p.root);
}

/* Containers grow past their first allocation without losing items. */
static void
test_many_items(void **state)
{
	char		 yaml[4096];
	struct parsed	 p;
	size_t		 i, off = 0;

	(void)state;
	for (i = 0; i < 300; i++)
		off += (size_t)snprintf(yaml + off, sizeof(yaml) - off,
		    "- %zu\n", i);
	assert_non_null(parse(&p, yaml));
	assert_int_equal(p.root->type, CONFIG_NODE_SEQ);
	assert_int_equal(p.root->n, 300);
	assert_true(p.root->cap >= 300);
	for (i = 0; i < 300; i++) {
		char	want[8];

		snprintf(want, sizeof(want), "%zu", i);
		assert_string_equal(p.root->items[i]->str, want);
		assert_int_equal(p.root->items[i]->line, i + 1);
	}
	config_tree_free(p.root);
}

/* len bounds the input: the buffer need not be NUL-terminated. */
static void
test_length_bounds_input(void **state)
{
	static const char	 text[] = "k: 12XXXX: oops [";
	struct parsed		 p;
	struct config_node	*root;

	(void)state;
	root = config_tree_parse(text, 5, &p.line, &p.col, p.msg,
	    sizeof(p.msg));
	assert_non_null(root);
	assert_string_equal(map_value(root, "k")->str, "12");
	config_tree_free(root);
}

/* An alias is refused where it is written: refusing them bounds the work
 * of a "billion laughs" file to its own size. */
static void
test_alias_refused(void **state)
{
	(void)state;
	parse_fails("a: &x 1\nb: *x\n", 2, 4,
	    "YAML aliases are not supported");
	parse_fails("a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n", 2, 8,
	    "YAML aliases are not supported");
}

static void
test_second_document_refused(void **state)
{
	(void)state;
	parse_fails("a: 1\n---\nb: 2\n", 2, 1,
	    "only one YAML document is allowed");
}

/* Nesting is bounded: CONFIG_TREE_DEPTH_MAX levels parse, one more is
 * refused at the opening bracket that goes too deep. */
static void
test_depth_limit(void **state)
{
	char		yaml[2 * CONFIG_TREE_DEPTH_MAX + 8];
	struct parsed	p;
	size_t		i, n;

	(void)state;
	for (n = CONFIG_TREE_DEPTH_MAX; n <= CONFIG_TREE_DEPTH_MAX + 1; n++) {
		for (i = 0; i < n; i++) {
			yaml[i] = '[';
			yaml[n + i] = ']';
		}
		yaml[2 * n] = '\0';
		if (n == CONFIG_TREE_DEPTH_MAX) {
			assert_non_null(parse(&p, yaml));
			config_tree_free(p.root);
		} else
			parse_fails(yaml, 1, CONFIG_TREE_DEPTH_MAX + 1,
			    "YAML nested too deeply");
	}
}

static void
test_syntax_errors(void **state)
{
	(void)state;
	/* A parser error carries libyaml's context in parentheses. */
	parse_fails("a: \"open\nb: 1\n", 3, 1, "YAML syntax error: ");
	parse_fails("a: [1, 2\n", 2, 1, "YAML syntax error: ");
	/* A reader error (bad UTF-8) is placed from its byte offset. */
	parse_fails("a: b\nc: \xff\n", 2, 4, "YAML syntax error: ");
	parse_fails("a: \x01\n", 1, 4, "YAML syntax error: ");
}

/* Nothing, or only an empty plain scalar, is not a configuration; "~" or
 * "''" is a document (the loader then says what it must hold). */
static void
test_empty(void **state)
{
	struct parsed	p;

	(void)state;
	parse_fails("", 1, 1, "the configuration is empty");
	parse_fails("# only a comment\n", 1, 1, "the configuration is empty");
	parse_fails("---\n...\n", 1, 1, "the configuration is empty");
	assert_non_null(parse(&p, "''\n"));
	assert_false(p.root->is_plain);
	config_tree_free(p.root);
	assert_non_null(parse(&p, "~\n"));
	assert_string_equal(p.root->str, "~");
	config_tree_free(p.root);
}

/* The message is cut to the caller's buffer, NUL-terminated. */
static void
test_message_truncated(void **state)
{
	unsigned	line, col;
	char		msg[8];

	(void)state;
	memset(msg, 'x', sizeof(msg));
	assert_null(config_tree_parse("a: *x\n", 6, &line, &col, msg,
	    sizeof(msg)));
	assert_string_equal(msg, "YAML al");
	assert_int_equal(line, 1);
	assert_int_equal(col, 4);
}

/* config_alloc_fail_at fails exactly the Nth allocation from now, then
 * turns itself off. */
static void
test_alloc_fail_at(void **state)
{
	void	*a, *b;

	(void)state;
	config_alloc_fail_at = 2;
	a = config_malloc(8);
	assert_non_null(a);
	assert_null(config_calloc(1, 8));
	assert_int_equal(config_alloc_fail_at, 0);
	b = config_strdup("x");
	assert_non_null(b);
	config_alloc_fail_at = 1;
	assert_null(config_reallocarray(a, 2, 8));
	config_alloc_fail_at = 1;
	assert_null(config_realloc(a, 32));
	free(a);
	free(b);
}

/* Every allocation of a parse can fail: the result is NULL with "out of
 * memory" and its position, and nothing leaks (ASan), until the parse
 * needs fewer allocations than the failure point and succeeds. */
static void
test_out_of_memory(void **state)
{
	static const char	 yaml[] = "a: [1, {b: c}]\nd: e\n";
	struct parsed		 p;
	unsigned long		 n;

	(void)state;
	for (n = 1; n < 1000; n++) {
		config_alloc_fail_at = n;
		if (parse(&p, yaml) != NULL)
			break;
		assert_string_equal(p.msg, "out of memory");
		assert_true(p.line >= 1);
	}
	config_alloc_fail_at = 0;
	assert_true(n > 1);
	assert_true(n < 1000);
	assert_int_equal(p.root->n, 4);
	config_tree_free(p.root);
}

static void
test_free_and_names(void **state)
{
	(void)state;
	config_tree_free(NULL);
	assert_string_equal(config_node_type_name(CONFIG_NODE_SCALAR),
	    "a scalar");
	assert_string_equal(config_node_type_name(CONFIG_NODE_SEQ), "a list");
	assert_string_equal(config_node_type_name(CONFIG_NODE_MAP),
	    "a mapping");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scalar_root),
		cmocka_unit_test(test_scalar_styles),
		cmocka_unit_test(test_scalar_with_nul),
		cmocka_unit_test(test_mapping_positions),
		cmocka_unit_test(test_many_items),
		cmocka_unit_test(test_length_bounds_input),
		cmocka_unit_test(test_alias_refused),
		cmocka_unit_test(test_second_document_refused),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_message_truncated),
		cmocka_unit_test(test_alloc_fail_at),
		cmocka_unit_test(test_out_of_memory),
		cmocka_unit_test(test_free_and_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
