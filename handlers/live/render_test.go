package live

import "testing"

func TestOneLineKeepsMeaning(t *testing.T) {
	in := "<li id=\"a\"\n  class=\"b\">\n  <pre>x\r\ny</pre>\r<textarea>1\n2</textarea>\n</li>"
	want := "<li id=\"a\"   class=\"b\">&#10;  <pre>x&#10;y</pre>&#10;<textarea>1&#10;2</textarea>&#10;</li>"
	if got := string(oneLine([]byte(in))); got != want {
		t.Fatalf("oneLine:\n got %q\nwant %q", got, want)
	}
}
