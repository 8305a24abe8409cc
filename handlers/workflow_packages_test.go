package handlers_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"fleetprompt/store"
	"fleetprompt/store/storetest"
)

// A package's workflows (SPEC §13): installing creates them, on while the
// tier allows and off past it (the package says so); their agent handles
// are the ones the package's agents got here; uninstalling removes them
// and keeps their runs.
func TestPackageWorkflowsInstallAndUninstall(t *testing.T) {
	t.Parallel()
	ms := newMktSite(t)
	pkg := strings.ReplaceAll(storetest.Name("wfpkg"), "_", "-")
	def := `{"trigger": {"signal": "forum.thread.created"}, "steps": [
		{"id": "draft", "agent": "triage-bot", "prompt": "{{.trigger.title}}"},
		{"id": "post", "needs": ["draft"], "directive": "forum.post.create",
		 "payload": {"thread_id": "{{.trigger.thread_id}}", "body": "{{.steps.draft.output}}", "as_agent": "triage-bot"}}]}`
	inc, _ := json.Marshal(store.PackageIncludes{Agents: []store.PackageAgent{{Name: "Triage Bot", SystemPrompt: "You triage."}},
		Skills: []string{}, Tools: []string{}, Workflows: []store.PackageWorkflow{{Name: "Auto triage", Description: "Triage.", Definition: json.RawMessage(def)}}})
	if _, err := ms.store.DB.ExecContext(ctx, `INSERT INTO packages (name, slug, version, description, category, pricing_model, min_tier, includes, is_published)
		VALUES ('Triage', $1, '1.0.0', 'Triage.', 'operations', 'free', 'free', $2, true)`, pkg, string(inc)); err != nil {
		t.Fatal(err)
	}
	install := func(c *client, slug string) {
		t.Helper()
		r := c.get("/marketplace/" + pkg)
		wantStatus(t, c.post("/marketplace/install", url.Values{"slug": {pkg}, "idempotency_key": {installKey(t, r, pkg)}}), http.StatusSeeOther)
		if ds := ms.waitPackage(slug, pkg); ds[len(ds)-1].Status != store.DirectiveSucceeded {
			t.Fatalf("install: %+v", ds[len(ds)-1])
		}
	}

	// Free: created, off, and the package says so.
	free := storetest.Name("wffree")
	fo := ms.client()
	fo.register(free)
	ms.runJobs(free)
	install(fo, free)
	wfs, _ := ms.store.Workflows(ctx, ms.tenant(free))
	if len(wfs) != 1 || wfs[0].Enabled || !wfs[0].PackageSlug.Valid {
		t.Fatalf("free org's workflows: %+v", wfs)
	}
	if fo.get("/marketplace/"+pkg).doc(t).Find("[data-testid=workflows-off]").Length() != 1 {
		t.Error("the package does not say its workflow is off")
	}

	// Pro, with an agent of its own already called Triage Bot: the
	// workflow names the package's agent by the handle it got here.
	pro := storetest.Name("wfpro")
	po := ms.client()
	po.register(pro)
	tn := ms.tenant(pro)
	ms.store.DB.MustExec(`UPDATE organizations SET tier = 'pro' WHERE id = $1`, tn.OrgID)
	ms.store.DB.MustExec(tn.SQL(`INSERT INTO {tenant}.agents (name) VALUES ('Triage Bot')`))
	ms.runJobs(pro)
	install(po, pro)
	wfs, _ = ms.store.Workflows(ctx, tn)
	if len(wfs) != 1 || !wfs[0].Enabled {
		t.Fatalf("pro org's workflows: %+v", wfs)
	}
	var handle string
	ms.store.DB.Get(&handle, tn.SQL(`SELECT handle FROM {tenant}.agents WHERE package_slug = $1`), pkg)
	if handle == "triage-bot" || !strings.Contains(string(wfs[0].Definition), `"agent": "`+handle+`"`) ||
		!strings.Contains(string(wfs[0].Definition), `"as_agent": "`+handle+`"`) {
		t.Errorf("the package's agent is @%s; the workflow says %s", handle, wfs[0].Definition)
	}
	if po.get("/marketplace/"+pkg).doc(t).Find("[data-testid=workflows-off]").Length() != 0 {
		t.Error("an enabled workflow is said to be off")
	}

	checkUninstallKeepsRuns(t, ms, po, tn, pro, pkg, wfs[0])
}

// checkUninstallKeepsRuns: uninstalling removes the package's workflow
// and keeps its runs, which still show the workflow's name.
func checkUninstallKeepsRuns(t *testing.T, ms *mktSite, po *client, tn store.Tenant, pro, pkg string, wf store.Workflow) {
	t.Helper()
	wfs := []store.Workflow{wf}
	// A run of it, then uninstall: the workflow goes, the run stays.
	var runID string
	if err := ms.store.DB.Get(&runID, tn.SQL(`INSERT INTO {tenant}.workflow_runs (workflow_id, workflow_name, definition, trigger_seq,
		trigger_id, trigger_name, trigger, status) VALUES ($1, $2, $3, 1, gen_random_uuid(), 'forum.thread.created', '{}', 'succeeded')
		RETURNING id`), wfs[0].ID, wfs[0].Name, string(wfs[0].Definition)); err != nil {
		t.Fatal(err)
	}
	d := po.get("/marketplace/" + pkg).doc(t)
	key := d.Find(`#install-`+pkg+` form[data-testid=uninstall-form] input[name=idempotency_key]`).AttrOr("value", "")
	wantStatus(t, po.post("/marketplace/uninstall", url.Values{"slug": {pkg}, "idempotency_key": {key}}), http.StatusSeeOther)
	ms.waitPackage(pro, pkg)
	if wfs, _ := ms.store.Workflows(ctx, tn); len(wfs) != 0 {
		t.Errorf("workflows after uninstall: %+v", wfs)
	}
	r := po.get("/workflows/runs/" + runID)
	wantStatus(t, r, http.StatusOK)
	if !strings.Contains(r.doc(t).Find("h1").Text(), "Auto triage") {
		t.Error("the kept run lost its workflow's name")
	}
}
