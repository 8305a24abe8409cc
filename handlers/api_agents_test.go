package handlers_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// A run asked through the API is the same execution as one from the
// agent's page: queued (202), run by the agent engine, and read back
// finished with the answer; a draft agent is refused with the reason.
func TestAPIRunsAnAgent(t *testing.T) {
	t.Parallel()
	as := newAgentSite(t, nil, "")
	o := as.newOrg("apirun")
	as.forumPost(o, "Printer jams", "Open tray two and pull the green lever to clear a printer jam.")
	id := as.activeAgent(o, "Helper")
	as.runJobs(o.slug)
	api := apiClient{s: as.site, key: o.owner.newAPIKey("Runner", "write")}

	r := api.call("POST", "/api/v1/agents/"+id+"/executions", `{"input": "How do I clear a printer jam?"}`)
	wantStatus(t, r, http.StatusAccepted)
	var ex struct {
		ID, Status, Output string
	}
	decode(t, r, &ex)
	deadline := time.Now().Add(20 * time.Second)
	for ex.Status != "succeeded" {
		if time.Now().After(deadline) || ex.Status == "failed" {
			t.Fatalf("execution %+v", ex)
		}
		time.Sleep(50 * time.Millisecond)
		r = api.call("GET", "/api/v1/executions/"+ex.ID, "")
		wantStatus(t, r, http.StatusOK)
		decode(t, r, &ex)
	}
	if !strings.Contains(ex.Output, "green lever") {
		t.Errorf("answer %q", ex.Output)
	}
	as.store.DB.MustExec(o.tenant.SQL(`UPDATE {tenant}.agents SET state = 'draft' WHERE id = $1`), id)
	wantProblem(t, api.call("POST", "/api/v1/agents/"+id+"/executions", `{"input": "Again?"}`), http.StatusUnprocessableEntity)
}
