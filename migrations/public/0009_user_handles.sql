-- User handles (SPEC §16): ^[a-z0-9_]{2,30}$, unique, for mentions and
-- profile links (/u/<handle>). Handles are lowercase by their CHECK, so a
-- plain unique index makes them unique case-insensitively too.
--
-- The app derives a handle from the name in Go (store.DeriveHandle, with
-- full Unicode folding) and asks free_user_handle for the first free one.
-- A row inserted without a handle (an older writer, a test, psql) gets
-- one here, by the same rules with a smaller folding table, and so do
-- the users that existed before this migration.

ALTER TABLE users ADD COLUMN handle text;
CREATE UNIQUE INDEX users_handle_key ON users (handle);

-- user_handle_base is a name made into a handle candidate: lowercase,
-- accents folded, runs of anything else become "_", trimmed, at most 30
-- characters; "user" when fewer than 2 remain.
CREATE FUNCTION user_handle_base(name text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    -- Both cases are folded by hand: lower() leaves non-ASCII letters
    -- alone under the C collation.
    SELECT CASE WHEN length(b) >= 2 THEN b ELSE 'user' END
      FROM (SELECT rtrim(left(btrim(regexp_replace(lower(
                replace(replace(replace(replace(replace(replace(replace(replace(replace(translate(name,
                    'ÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝàáâãäåçèéêëìíîïñòóôõöùúûüýÿĀāĂăĄąĆćĈĉĊċČčĎďĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĨĩĪīĬĭĮįİĴĵĶķĹĺĻļĽľŃńŅņŇňŌōŎŏŐőŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŨũŪūŬŭŮůŰűŲųŴŵŶŷŸŹźŻżŽžſØøĐđĦħıĿŀŁłŦŧÐð',
                    'aaaaaaceeeeiiiinooooouuuuyaaaaaaceeeeiiiinooooouuuuyyaaaaaaccccccccddeeeeeeeeeegggggggghhiiiiiiiiijjkkllllllnnnnnnoooooorrrrrrssssssssttttuuuuuuuuuuuuwwyyyzzzzzzsooddhhillllttdd'),
                  'ß', 'ss'), 'ẞ', 'ss'), 'æ', 'ae'), 'Æ', 'ae'), 'œ', 'oe'), 'Œ', 'oe'), 'þ', 'th'), 'Þ', 'th'), 'ĳ', 'ij')),
              '[^a-z0-9]+', '_', 'g'), '_'), 30), '_') AS b) AS x
$$;

-- free_user_handle returns base if no user has it, else base followed by
-- the smallest number from 2 that is free (base shortened to keep 30
-- characters). Callers with the same base wait for each other on a
-- transaction-scoped advisory lock, so two registrations of "Ana" at once
-- get "ana" and "ana2" rather than one of them a unique violation.
CREATE FUNCTION free_user_handle(base text) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    candidate text := base;
    n integer := 1;
BEGIN
    PERFORM pg_advisory_xact_lock(1179648257, hashtext(base)); -- 0x46500101: FleetPrompt handles
    WHILE EXISTS (SELECT 1 FROM public.users WHERE handle = candidate) LOOP
        n := n + 1;
        candidate := rtrim(left(base, 30 - length(n::text)), '_') || n::text;
    END LOOP;
    RETURN candidate;
END $$;

CREATE FUNCTION users_default_handle() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.handle IS NULL THEN
        NEW.handle := public.free_user_handle(public.user_handle_base(NEW.name));
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER users_default_handle BEFORE INSERT ON users
    FOR EACH ROW EXECUTE FUNCTION users_default_handle();

-- Existing users, oldest first: one statement each, so each sees the
-- handles given before it.
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT id, name FROM public.users WHERE handle IS NULL ORDER BY id LOOP
        UPDATE public.users SET handle = public.free_user_handle(public.user_handle_base(r.name)) WHERE id = r.id;
    END LOOP;
END $$;

ALTER TABLE users ALTER COLUMN handle SET NOT NULL;
ALTER TABLE users ADD CONSTRAINT users_handle_check CHECK (handle ~ '^[a-z0-9_]{2,30}$');
