package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// Seed loads the demo data (SPEC §10). It is idempotent: rows that exist
// are left as they are, so it can run on every start of a dev database.
func (s *Store) Seed(ctx context.Context) error {
	return s.Tx(ctx, func(tx *sqlx.Tx) error {
		if err := seedCatalogue(ctx, tx); err != nil {
			return err
		}
		org, err := s.seedDemoOrg(ctx, tx)
		if err != nil {
			return err
		}
		return s.seedDemoTenant(ctx, tx, org.Tenant())
	})
}

func (s *Store) seedDemoOrg(ctx context.Context, tx *sqlx.Tx) (Organization, error) {
	var org Organization
	err := tx.GetContext(ctx, &org, `SELECT id, name, slug, tier, billing_status, created_at FROM organizations WHERE slug = 'demo'`)
	if err != nil {
		if org, err = s.createOrganization(ctx, tx, "Demo Company", "demo", "pro"); err != nil {
			return org, fmt.Errorf("create demo org: %w", err)
		}
	}
	var userID int64
	err = tx.GetContext(ctx, &userID, `SELECT id FROM users WHERE lower(email) = 'admin@demo.com'`)
	if err != nil {
		hash, herr := hashPassword("password123", s.BcryptCost)
		if herr != nil {
			return org, herr
		}
		if err := tx.GetContext(ctx, &userID, `INSERT INTO users (email, password_hash, name, handle)
			VALUES ('admin@demo.com', $1, 'Admin User', free_user_handle('admin')) RETURNING id`, string(hash)); err != nil {
			return org, fmt.Errorf("create demo user: %w", err)
		}
	}
	// The demo admin is @admin (SPEC §13), also when the user predates
	// handles (the migration derived "admin_user"), unless someone else
	// took it meanwhile.
	if _, err := tx.ExecContext(ctx, `UPDATE users SET handle = 'admin' WHERE id = $1 AND handle <> 'admin'
		AND NOT EXISTS (SELECT 1 FROM users WHERE handle = 'admin')`, userID); err != nil {
		return org, fmt.Errorf("demo user's handle: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO organization_memberships (organization_id, user_id, role, status)
		VALUES ($1, $2, 'owner', 'active') ON CONFLICT (organization_id, user_id) DO UPDATE SET role = 'owner', status = 'active'`, org.ID, userID)
	return org, err
}

type seedAgent struct {
	Name         string `json:"name"`
	Description  string `json:"description"`
	SystemPrompt string `json:"system_prompt"`
}

type seedPackage struct {
	Slug, Name, Version, Category, Pricing, MinTier, Description string
	PricingConfig                                                map[string]any
	Featured, Verified                                           bool
	Agents                                                       []seedAgent
	Skills                                                       []string
	Workflows                                                    []PackageWorkflow
}

func agent(name, desc string) seedAgent {
	return seedAgent{Name: name, Description: desc,
		SystemPrompt: "You are " + name + ". " + desc + " Be concise, accurate and ask before acting."}
}

// The seeded packages' workflows (SPEC §13).
const (
	supportAutoReplyWorkflow = `{"trigger": {"signal": "forum.thread.created", "where": {"category_slug": "support"}},
 "steps": [
  {"id": "draft", "agent": "ticket-manager", "thread": "{{.trigger.thread_id}}",
   "prompt": "A customer asks:\n{{.trigger.title}}\n\n{{.trigger.body}}\nAnswer briefly."},
  {"id": "post", "needs": ["draft"], "directive": "forum.post.create",
   "payload": {"thread_id": "{{.trigger.thread_id}}", "body": "{{.steps.draft.output}}", "as_agent": "ticket-manager",
               "execution_id": "{{.steps.draft.execution_id}}"}}]}`
	serviceRequestWorkflow = `{"trigger": {"signal": "forum.thread.created", "where": {"category_slug": "service"}},
 "steps": [
  {"id": "plan", "agent": "dispatcher",
   "prompt": "A service request came in:\n{{.trigger.title}}\n\n{{.trigger.body}}\n\nDraft a short plan: who goes, when, and what to bring."},
  {"id": "approve", "needs": ["plan"], "approval": {"prompt": "Post the Dispatcher's plan in the thread?", "timeout": "72h"}},
  {"id": "post", "needs": ["approve"], "directive": "forum.post.create",
   "payload": {"thread_id": "{{.trigger.thread_id}}", "body": "{{.steps.plan.output}}", "as_agent": "dispatcher",
               "execution_id": "{{.steps.plan.execution_id}}"}}]}`
)

var seedPackages = []seedPackage{
	{Slug: "field-service", Name: "Field Service Management", Version: "1.0.0", Category: "operations", Pricing: "freemium", MinTier: "pro",
		Description: "Dispatch technicians, answer customers, inspect work and keep parts in stock.",
		Featured:    true, Verified: true, PricingConfig: map[string]any{"free_jobs_per_month": 50},
		Agents: []seedAgent{agent("Dispatcher", "Assigns service requests to the right technician."),
			agent("Customer Service", "Answers customers about their service requests."),
			agent("QA Inspector", "Checks completed work against the checklist."),
			agent("Inventory Manager", "Tracks parts and reorders before they run out.")},
		Skills: []string{"customer-communication"},
		Workflows: []PackageWorkflow{{Name: "Service Request", Description: "A request in Service: the Dispatcher drafts a plan, a person approves it, and it is posted.",
			Definition: json.RawMessage(serviceRequestWorkflow)}}},
	{Slug: "customer-support", Name: "Customer Support Hub", Version: "2.1.0", Category: "customer_service", Pricing: "paid", MinTier: "free",
		Description: "Tickets, live chat and email answered by agents that hand over to people when needed.",
		Featured:    true, Verified: true, PricingConfig: map[string]any{"price_monthly_usd": 149},
		Agents: []seedAgent{agent("Ticket Manager", "Triages and routes support tickets."),
			agent("Live Chat", "Answers customers in the chat widget."),
			agent("Email Responder", "Drafts replies to support email.")},
		Skills: []string{"customer-communication"},
		Workflows: []PackageWorkflow{{Name: "Support auto-reply", Description: "A new thread in Support gets a first answer from the Ticket Manager.",
			Definition: json.RawMessage(supportAutoReplyWorkflow)}}},
	{Slug: "sales-automation", Name: "Sales Automation", Version: "1.5.0", Category: "sales", Pricing: "revenue_share", MinTier: "pro",
		Description:   "Qualify leads and run outreach sequences.",
		PricingConfig: map[string]any{"revenue_share_percent": 15},
		Agents: []seedAgent{agent("Lead Qualifier", "Scores inbound leads against your ideal customer."),
			agent("Outreach Agent", "Writes and schedules outreach sequences.")},
		Skills: []string{"web-research"}},
	{Slug: "starter-agents", Name: "Starter Agents", Version: "1.0.0", Category: "development", Pricing: "free", MinTier: "free",
		Description: "Three general-purpose agents to get started.",
		Featured:    true, Verified: true, PricingConfig: map[string]any{},
		Agents: []seedAgent{agent("General Assistant", "Helps with everyday questions and tasks."),
			agent("Customer Support", "Answers customer questions politely."),
			agent("Research Assistant", "Finds and summarises information.")},
		Skills: []string{"web-research"}},
}

func seedCatalogue(ctx context.Context, tx *sqlx.Tx) error {
	skills := []struct {
		slug, name, category, tier, desc string
		tools                            string
	}{
		{"web-research", "Web Research", "research", "free", "Search the web and read pages.", "{web_search,web_fetch}"},
		{"code-analysis", "Code Analysis", "coding", "pro", "Parse and analyse source code.", "{ast_parse,static_analysis}"},
		{"customer-communication", "Customer Communication", "communication", "free", "Write to customers by email and SMS.", "{send_email,send_sms}"},
	}
	for _, sk := range skills {
		if _, err := tx.ExecContext(ctx, `INSERT INTO skills (name, slug, description, category, tier_required, tools, is_official)
			VALUES ($1, $2, $3, $4, $5, $6, true) ON CONFLICT (slug) DO NOTHING`, sk.name, sk.slug, sk.desc, sk.category, sk.tier, sk.tools); err != nil {
			return fmt.Errorf("seed skill %s: %w", sk.slug, err)
		}
	}
	for _, p := range seedPackages {
		workflows := p.Workflows
		if workflows == nil {
			workflows = []PackageWorkflow{}
		}
		includes, _ := json.Marshal(map[string]any{"agents": p.Agents, "skills": p.Skills, "workflows": workflows, "tools": []string{}})
		pricing, _ := json.Marshal(p.PricingConfig)
		if _, err := tx.ExecContext(ctx, `INSERT INTO packages (name, slug, version, description, long_description, category, author, license,
				pricing_model, pricing_config, min_tier, includes, is_verified, is_featured, is_published)
			VALUES ($1, $2, $3, $4, $4, $5, 'FleetPrompt', 'MIT', $6, $7, $8, $9, $10, $11, true)
			ON CONFLICT (slug) DO UPDATE SET includes = EXCLUDED.includes`,
			p.Name, p.Slug, p.Version, p.Description, p.Category, p.Pricing, pricing, p.MinTier, includes, p.Verified, p.Featured); err != nil {
			return fmt.Errorf("seed package %s: %w", p.Slug, err)
		}
	}
	return nil
}

// seedDemoTenant adds the demo agent and forum through the same writes as
// the app, so the forum's facts exist as signals (dashboard activity, the
// welcome thread's audit trail) like everything made later.
func (s *Store) seedDemoTenant(ctx context.Context, tx *sqlx.Tx, t Tenant) error {
	var n int
	if err := tx.GetContext(ctx, &n, t.SQL(`SELECT count(*) FROM {tenant}.agents WHERE name = 'Research Assistant' AND package_slug IS NULL`)); err != nil {
		return err
	}
	if n == 0 {
		// Active (SPEC §13): the demo is worth using from the first login.
		if _, err := tx.ExecContext(ctx, t.SQL(`INSERT INTO {tenant}.agents (name, description, system_prompt, state)
			VALUES ('Research Assistant', 'Finds and summarises information for the team.', 'You are a careful research assistant. Cite your sources.', 'active')`)); err != nil {
			return fmt.Errorf("seed agent: %w", err)
		}
	}
	var userID int64
	if err := tx.GetContext(ctx, &userID, `SELECT id FROM users WHERE lower(email) = 'admin@demo.com'`); err != nil {
		return errors.New("seed: demo user missing")
	}
	for _, c := range [][3]string{
		{"announcements", "Announcements", "News from the team."},
		{"support", "Support", "Questions about agents and packages."},
		{"service", "Service requests", "Field work: repairs, visits and installations."},
	} {
		var id string
		err := tx.GetContext(ctx, &id, t.SQL(`INSERT INTO {tenant}.forum_categories (slug, name, description) VALUES ($1, $2, $3)
			ON CONFLICT (slug) DO NOTHING RETURNING id`), c[0], c[1], c[2])
		if errors.Is(err, sql.ErrNoRows) {
			continue // seeded before
		} else if err != nil {
			return fmt.Errorf("seed category: %w", err)
		}
		if err := s.emitForum(ctx, tx, t, forumFact{Name: "forum.category.created", ActorUserID: userID,
			SubjectType: SubjectForumCategory, SubjectID: id,
			Payload: map[string]any{"category_id": id, "slug": c[0], "name": c[1]}}); err != nil {
			return err
		}
	}
	var threads int
	if err := tx.GetContext(ctx, &threads, t.SQL(`SELECT count(*) FROM {tenant}.forum_threads`)); err != nil {
		return err
	}
	if threads > 0 {
		return nil
	}
	var announcements string
	if err := tx.GetContext(ctx, &announcements, t.SQL(`SELECT id FROM {tenant}.forum_categories WHERE slug = 'announcements'`)); err != nil {
		return fmt.Errorf("seed: announcements category: %w", err)
	}
	th, _, err := s.CreateForumThreadTx(ctx, tx, t, userID, NewForumThread{CategoryID: announcements, Title: "Welcome to FleetPrompt",
		Body: "Welcome! This is your organization's forum. Ask questions in **Support**, and watch this thread update live when someone replies."})
	if err != nil {
		return fmt.Errorf("seed thread: %w", err)
	}
	if _, err = tx.ExecContext(ctx, t.SQL(`UPDATE {tenant}.forum_threads SET pinned = true WHERE id = $1`), th.ID); err != nil {
		return err
	}
	return s.seedSupport(ctx, tx, t, userID)
}

// supportThreads are the demo's answered questions: the built-in
// responder answers from the forum, so a demo without a model provider
// has something worth finding.
var supportThreads = [][2]string{
	{"How do I install a package of agents?",
		"Open the **Marketplace**, pick a package and press **Install**. The install runs as a directive: its progress shows live on the page, " +
			"and when it is done the package's agents are active and listed under **Agents**. Owners and admins can install; uninstall with " +
			"\"remove its agents\" also deletes the agents the package created."},
	{"What do the agent states mean?",
		"A hand-made agent starts as a **draft**. **Deploy** runs one test execution: if it answers, the agent becomes **active**; if not, it " +
			"moves to **error** with the reason. Only active agents run: in chat, when mentioned in the forums, in workflows and through the API. " +
			"**Pause** stops an agent without losing anything; **resume** brings it back. Five failed runs in a row also move an agent to error."},
	{"Why does my agent answer from the forum instead of a model?",
		"Without a model provider configured, agents answer with the built-in responder: it searches this forum for the most relevant posts " +
			"and quotes them with links. An administrator can connect any OpenAI-compatible provider with LLM_BASE_URL, LLM_API_KEY and LLM_MODEL."},
	{"How are tokens counted and limited?",
		"Every run records its prompt and completion tokens and its cost. **Admin → Usage** shows tokens per day and per agent. " +
			"Each plan has a monthly token limit (free 100,000, pro 1,000,000); once it is reached, runs are refused until the month ends."},
	{"Where can I see what happened in the workspace?",
		"The **dashboard** shows the activity of the last 30 days and a live feed. Every change is recorded as a signal, and every command as a " +
			"directive: **Admin → Signals** and **Admin → Directives** list them, and each thread shows its own audit trail."},
}

func (s *Store) seedSupport(ctx context.Context, tx *sqlx.Tx, t Tenant, userID int64) error {
	var support string
	if err := tx.GetContext(ctx, &support, t.SQL(`SELECT id FROM {tenant}.forum_categories WHERE slug = 'support'`)); err != nil {
		return fmt.Errorf("seed: support category: %w", err)
	}
	for _, q := range supportThreads {
		if _, _, err := s.CreateForumThreadTx(ctx, tx, t, userID, NewForumThread{CategoryID: support, Title: q[0], Body: q[1]}); err != nil {
			return fmt.Errorf("seed support thread: %w", err)
		}
	}
	return nil
}
