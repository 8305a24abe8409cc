package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"fleetprompt/store/storetest"
)

// An install in progress reaches open marketplace pages over the
// installations stream: the install_status fragment, swapped out of band
// by id, with forms for owners and admins only.
func TestMarketplaceInstallStatusIsPushedLive(t *testing.T) {
	t.Parallel()
	ms := newLiveMktSite(t)
	slug := storetest.Name("mkl")
	owner := ms.client()
	owner.register(slug)
	member := ms.addMember(slug)
	pkg := ms.mktPackage("free", 2)

	src, _ := owner.get("/marketplace/" + pkg).doc(t).Find("[data-testid=installs-live]").Attr("sse-connect")
	ownerStream := owner.stream(t, src)
	memberStream := member.stream(t, "/events?topic=installations")
	ms.runJobs(slug)
	wantStatus(t, owner.post("/marketplace/install", url.Values{"slug": {pkg}, "idempotency_key": {storetest.Name("k")}}), http.StatusSeeOther)

	frag := func(data string) *goquery.Selection {
		d, err := goquery.NewDocumentFromReader(strings.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		return d.Find("#install-" + pkg)
	}
	ev := ownerStream.next(t, "package.installation.installed")
	f := frag(ev.Data)
	if f.AttrOr("hx-swap-oob", "") != "outerHTML" || f.AttrOr("data-state", "") != "installed" {
		t.Errorf("owner's fragment: %s", ev.Data)
	}
	if f.Find("form[data-testid=uninstall-form]").Length() != 1 {
		t.Error("the owner's fragment offers uninstall")
	}
	ev = memberStream.next(t, "package.installation.installed")
	f = frag(ev.Data)
	if f.AttrOr("data-state", "") != "installed" || f.Find("form").Length() != 0 {
		t.Errorf("member's fragment: %s", ev.Data)
	}
}
