// Package content is Chronicle's content model: posts, categories, the
// settings, the profile, media and embeds as files in the repository —
// where each lives, how it is parsed, validated and written — and the rules
// for ids, slugs and names. It does no I/O, so forms, tools and tests can
// use it cheaply.
package content
