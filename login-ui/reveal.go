package loginui

import "html/template"

// pageFuncs are the functions every page's templates may call.
var pageFuncs = template.FuncMap{
	// reveal gives the "reveal" block (partials.html) the page, for its
	// words, and the ids of the password fields its toggle shows.
	"reveal": func(page any, ids string) revealArgs { return revealArgs{Page: page, IDs: ids} },
}

type revealArgs struct {
	Page any
	IDs  string
}
