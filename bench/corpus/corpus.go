// Package corpus holds the words the benchmarks' made-up posts are
// written with, so that every benchmark indexing or rendering such posts
// reads the same text as the sites bench/cmd/seed and history-seed make.
package corpus

import "strings"

// Words returns the vocabulary, a fresh copy each call: common English
// nouns, the first forty used as tags.
func Words() []string {
	return strings.Fields(`time year people way day man thing woman life child world school state family student group country
problem hand part place case week company system program question work government number night point home water room mother area
money story fact month lot right study book eye job word business issue side kind head house service friend father power hour game
line end member law car city community name president team minute idea kid body information back parent face others level office
door health person art war history party result change morning reason research girl guy moment air teacher force education river
mountain walk garden bread coffee train journey harbour lantern meadow orchard valley winter summer autumn spring letter window
market village island forest bridge castle ocean desert compass engine camera recipe kitchen violin poem canvas marathon bicycle`)
}
