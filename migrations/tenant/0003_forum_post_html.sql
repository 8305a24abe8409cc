-- A post's Markdown rendered to safe HTML at write time, so a thread page
-- does not run the renderer for every post on every view. NULL for rows
-- written before this column (and by writers that do not render): readers
-- render those on the fly (ForumPost.HTML). A backfill cannot happen here,
-- in SQL; a change to the renderer's output must reset the column to NULL.
ALTER TABLE forum_posts ADD COLUMN content_html text;
