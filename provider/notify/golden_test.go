package notify

import "testing"

// TestMailGolden pins every mail kind in every shipped language, text and
// HTML, to a reviewed file under testdata: the wording a member reads
// changes only with a diff someone looked at (go test -update rewrites
// them).
func TestMailGolden(t *testing.T) {
	r := newTestRenderer(t)
	for _, lang := range goldenLanguages() {
		for kind, data := range sampleData() {
			t.Run(kind+"/"+lang, func(t *testing.T) {
				subject, text, html, err := r.Render(kind, lang, data)
				if err != nil {
					t.Fatal(err)
				}
				checkGolden(t, kind+"."+lang+".txt", "Subject: "+subject+"\n\n"+text)
				checkGolden(t, kind+"."+lang+".html", html)
			})
		}
	}
}
