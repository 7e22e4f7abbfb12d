/* test-maildir.c: LbMaildir on real directories, crashes included
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "lb-maildir.h"
#include "lb-message-summary.h"
#include "lb-test-session.h"

typedef struct
{
  char      *tmp_dir;
  char      *path;
  LbMaildir *maildir;
} Fixture;


static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;

  fixture->tmp_dir = g_dir_make_tmp ("letterbox-maildir-XXXXXX", &error);
  g_assert_no_error (error);

  /* two levels that do not exist yet, as for a new local folder */
  fixture->path = g_build_filename (fixture->tmp_dir, "Mail", "Inbox", NULL);
  fixture->maildir = lb_maildir_new (fixture->path);
  g_assert_true (lb_maildir_ensure (fixture->maildir, &error));
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_assert_finalize_object (fixture->maildir);
  lb_test_remove_tree (fixture->tmp_dir);
  g_free (fixture->path);
  g_free (fixture->tmp_dir);
}

static char *
sub_path (Fixture    *fixture,
          const char *subdir,
          const char *name)
{
  return g_build_filename (fixture->path, subdir, name, NULL);
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* The names in a subdirectory, sorted. */
static GPtrArray *
list_names (Fixture    *fixture,
            const char *subdir)
{
  g_autofree char *path = sub_path (fixture, subdir, NULL);
  g_autoptr(GError) error = NULL;
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  GDir *dir = g_dir_open (path, 0, &error);
  const char *name;

  g_assert_no_error (error);
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_dir_close (dir);

  g_ptr_array_sort (names, compare_names);

  return names;
}

static guint
count_files (Fixture    *fixture,
             const char *subdir)
{
  g_autoptr(GPtrArray) names = list_names (fixture, subdir);

  return names->len;
}

static void
write_file (const char *path,
            const char *contents)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_set_contents (path, contents, -1, &error));
  g_assert_no_error (error);
}

static void
assert_file_contents (const char *path,
                      GBytes     *expected)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize length = 0;

  g_assert_true (g_file_get_contents (path, &contents, &length, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (contents, length,
                   g_bytes_get_data (expected, NULL), g_bytes_get_size (expected));
}

/* Message number @index: its size and its flags follow from the number, so
 * whoever finds it on disk can tell whether it is whole. */
static GBytes *
make_message (guint index,
              gsize max_size)
{
  GString *s = g_string_new (NULL);
  gsize size = 200 + ((gsize) index * 7919) % max_size;

  g_string_append_printf (s,
                          "From: Sender <sender@example.test>\r\n"
                          "To: me@example.test\r\n"
                          "Subject: Message %u\r\n"
                          "X-Index: %u\r\n"
                          "\r\n",
                          index, index);
  for (guint line = 0; s->len < size; line++)
    g_string_append_printf (s, "Line %u of message %u, and some text to make it longer.\r\n",
                            line, index);
  g_string_append (s, "End of message\r\n");

  return g_string_free_to_bytes (s);
}

static guint
flags_for_index (guint index)
{
  const guint cycle[] = {
    0,
    LB_MESSAGE_SEEN,
    LB_MESSAGE_SEEN | LB_MESSAGE_ANSWERED,
    LB_MESSAGE_FLAGGED,
    LB_MESSAGE_DRAFT | LB_MESSAGE_FORWARDED | LB_MESSAGE_DELETED,
  };

  return cycle[index % G_N_ELEMENTS (cycle)];
}

static guint
index_of_message (GBytes *bytes)
{
  g_autofree char *text = g_strndup (g_bytes_get_data (bytes, NULL),
                                     MIN (g_bytes_get_size (bytes), 512));
  const char *header = strstr (text, "\r\nX-Index: ");
  char *end = NULL;
  guint64 index;

  g_assert_nonnull (header);
  index = g_ascii_strtoull (header + strlen ("\r\nX-Index: "), &end, 10);
  g_assert_true (g_str_has_prefix (end, "\r\n"));
  g_assert_cmpuint (index, <, G_MAXUINT);

  return (guint) index;
}

/* Every message in new/ and cur/ is exactly one that was delivered, with
 * the flags it was delivered with. Returns the indexes found. */
static GHashTable *
assert_only_whole_messages (Fixture *fixture,
                            gsize    max_size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) entries = lb_maildir_list (fixture->maildir, &error);
  GHashTable *found = g_hash_table_new (NULL, NULL);

  g_assert_no_error (error);
  for (guint i = 0; i < entries->len; i++)
    {
      LbMaildirEntry *entry = g_ptr_array_index (entries, i);
      g_autoptr(GBytes) bytes = lb_maildir_read (fixture->maildir, entry->unique,
                                                 entry->flags, &error);
      g_autoptr(GBytes) expected = NULL;
      guint index;

      g_assert_no_error (error);
      index = index_of_message (bytes);
      expected = make_message (index, max_size);
      g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                       g_bytes_get_data (expected, NULL), g_bytes_get_size (expected));
      g_assert_cmpuint (entry->flags, ==, flags_for_index (index));
      g_assert_cmpint (entry->is_new, ==, flags_for_index (index) == 0);
      g_assert_false (g_hash_table_contains (found, GUINT_TO_POINTER (index)));
      g_hash_table_add (found, GUINT_TO_POINTER (index));
    }

  return found;
}

static void
test_ensure (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp_dir = g_dir_make_tmp ("letterbox-maildir-XXXXXX", &error);
  g_autofree char *path = g_build_filename (tmp_dir, "a", "b", "Folder", NULL);
  g_autofree char *file = g_build_filename (tmp_dir, "file", NULL);
  g_autofree char *below_file = g_build_filename (file, "Folder", NULL);
  g_autofree char *property = NULL;
  const char *subdirs[] = { "tmp", "new", "cur" };
  LbMaildir *maildir;
  LbMaildir *broken;

  g_assert_no_error (error);

  maildir = lb_maildir_new (path);
  g_assert_cmpstr (lb_maildir_get_path (maildir), ==, path);
  g_object_get (maildir, "path", &property, NULL);
  g_assert_cmpstr (property, ==, path);

  g_assert_true (lb_maildir_ensure (maildir, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (subdirs); i++)
    {
      g_autofree char *sub = g_build_filename (path, subdirs[i], NULL);
      struct stat st;

      g_assert_cmpint (g_stat (sub, &st), ==, 0);
      g_assert_true (S_ISDIR (st.st_mode));
      /* mail is private */
      g_assert_cmpint (st.st_mode & 0777, ==, 0700);
    }

  /* a second time is no error, and a delivered message survives it */
  {
    g_autofree char *unique = lb_maildir_deliver (maildir, "x", 1, 0, &error);

    g_assert_no_error (error);
    g_assert_true (lb_maildir_ensure (maildir, &error));
    g_assert_no_error (error);
    g_assert_true (lb_maildir_remove (maildir, unique, 0, &error));
    g_assert_no_error (error);
  }

  /* the error names the place */
  write_file (file, "not a directory");
  broken = lb_maildir_new (below_file);
  g_assert_false (lb_maildir_ensure (broken, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY);
  g_assert_nonnull (strstr (error->message, below_file));
  g_assert_nonnull (strstr (error->message, g_strerror (ENOTDIR)));
  g_clear_error (&error);

  g_assert_finalize_object (broken);
  g_assert_finalize_object (maildir);
  lb_test_remove_tree (tmp_dir);
}

static void
assert_unique_form (const char *unique)
{
  /* <seconds>.M<usec>P<pid>Q<counter>R<random>.<host>, nothing that would
   * confuse a Maildir reader */
  g_assert_true (g_regex_match_simple ("^[0-9]+\\.M[0-9]{6}P[0-9]+Q[0-9]+R[0-9a-f]{16}\\..+$",
                                       unique, 0, 0));
  g_assert_null (strchr (unique, '/'));
  g_assert_null (strchr (unique, ':'));
}

static void
test_batch_commit (Fixture       *fixture,
                   gconstpointer  user_data)
{
  /* 3 goes through an fsync per file, 30 through one syncfs */
  const guint sizes[] = { 3, 30 };
  guint delivered = 0;

  for (guint round = 0; round < G_N_ELEMENTS (sizes); round++)
    {
      g_autoptr(LbMaildirBatch) batch = lb_maildir_batch_new (fixture->maildir);
      g_autoptr(GPtrArray) uniques = g_ptr_array_new_with_free_func (g_free);
      g_autoptr(GError) error = NULL;

      for (guint i = 0; i < sizes[round]; i++)
        {
          guint index = delivered + i;
          g_autoptr(GBytes) message = make_message (index, 100000);
          char *unique = lb_maildir_batch_add (batch,
                                               g_bytes_get_data (message, NULL),
                                               g_bytes_get_size (message),
                                               flags_for_index (index), &error);

          g_assert_no_error (error);
          assert_unique_form (unique);
          g_ptr_array_add (uniques, unique);
        }
      g_assert_cmpuint (lb_maildir_batch_get_length (batch), ==, sizes[round]);

      /* written, but nobody sees them yet */
      g_assert_cmpuint (count_files (fixture, "tmp"), ==, sizes[round]);
      g_assert_cmpuint (count_files (fixture, "new") + count_files (fixture, "cur"), ==, delivered);

      g_assert_true (lb_maildir_batch_commit (batch, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (count_files (fixture, "tmp"), ==, 0);

      for (guint i = 0; i < sizes[round]; i++)
        {
          guint index = delivered + i;
          const char *unique = g_ptr_array_index (uniques, i);
          g_autoptr(GBytes) message = make_message (index, 100000);
          g_autofree char *letters = lb_message_flags_to_string (flags_for_index (index));
          g_autofree char *name = flags_for_index (index) == 0
                                  ? g_strdup (unique)
                                  : g_strconcat (unique, ":2,", letters, NULL);
          g_autofree char *path = sub_path (fixture, flags_for_index (index) == 0 ? "new" : "cur",
                                            name);

          assert_file_contents (path, message);
        }

      delivered += sizes[round];
      g_assert_cmpuint (count_files (fixture, "new") + count_files (fixture, "cur"), ==, delivered);
    }

  /* the exact info suffixes, in ASCII order */
  {
    g_autoptr(GPtrArray) cur = list_names (fixture, "cur");
    guint seen_drafts = 0;

    for (guint i = 0; i < cur->len; i++)
      {
        const char *name = g_ptr_array_index (cur, i);

        if (g_str_has_suffix (name, ":2,DPT"))
          seen_drafts++;
        g_assert_true (g_str_has_suffix (name, ":2,S") || g_str_has_suffix (name, ":2,RS") ||
                       g_str_has_suffix (name, ":2,F") || g_str_has_suffix (name, ":2,DPT"));
      }
    g_assert_cmpuint (seen_drafts, >, 0);
  }
}

static void
test_batch_empty_and_odd (Fixture       *fixture,
                          gconstpointer  user_data)
{
  g_autoptr(LbMaildirBatch) batch = lb_maildir_batch_new (fixture->maildir);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) read = NULL;
  g_autofree char *empty_unique = NULL;
  g_autofree char *big_unique = NULL;
  GString *big = g_string_new (NULL);
  g_autoptr(GBytes) big_bytes = NULL;

  /* nothing to commit is no error */
  g_assert_true (lb_maildir_batch_commit (batch, &error));
  g_assert_no_error (error);

  /* an empty message is a message */
  empty_unique = lb_maildir_deliver (fixture->maildir, "", 0, 0, &error);
  g_assert_no_error (error);
  read = lb_maildir_read (fixture->maildir, empty_unique, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (read), ==, 0);
  g_clear_pointer (&read, g_bytes_unref);

  /* a large one, with every byte value, arrives whole */
  for (guint i = 0; i < 6 * 1024 * 1024; i++)
    g_string_append_c (big, (char) (i * 31 + i / 251));
  big_bytes = g_string_free_to_bytes (big);
  big_unique = lb_maildir_deliver (fixture->maildir, g_bytes_get_data (big_bytes, NULL),
                                   g_bytes_get_size (big_bytes), LB_MESSAGE_SEEN, &error);
  g_assert_no_error (error);
  read = lb_maildir_read (fixture->maildir, big_unique, LB_MESSAGE_SEEN, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (read, big_bytes));
}

static void
test_batch_abort (Fixture       *fixture,
                  gconstpointer  user_data)
{
  LbMaildirBatch *batch = lb_maildir_batch_new (fixture->maildir);
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < 10; i++)
    {
      g_autoptr(GBytes) message = make_message (i, 5000);
      g_autofree char *unique = lb_maildir_batch_add (batch,
                                                      g_bytes_get_data (message, NULL),
                                                      g_bytes_get_size (message),
                                                      flags_for_index (i), &error);

      g_assert_no_error (error);
      g_assert_nonnull (unique);
    }
  g_assert_cmpuint (count_files (fixture, "tmp"), ==, 10);

  lb_maildir_batch_free (batch);

  g_assert_cmpuint (count_files (fixture, "tmp"), ==, 0);
  g_assert_cmpuint (count_files (fixture, "new"), ==, 0);
  g_assert_cmpuint (count_files (fixture, "cur"), ==, 0);
}

static void
test_batch_failed_commit (Fixture       *fixture,
                          gconstpointer  user_data)
{
  g_autoptr(LbMaildirBatch) batch = lb_maildir_batch_new (fixture->maildir);
  g_autoptr(GError) error = NULL;
  g_autofree char *cur = sub_path (fixture, "cur", NULL);
  g_autofree char *last = NULL;
  const guint flags[] = { 0, 0, LB_MESSAGE_SEEN };

  for (guint i = 0; i < G_N_ELEMENTS (flags); i++)
    {
      g_autofree char *unique = lb_maildir_batch_add (batch, "Subject: x\r\n\r\nx\r\n", 16,
                                                      flags[i], &error);

      g_assert_no_error (error);
      if (i == G_N_ELEMENTS (flags) - 1)
        last = g_steal_pointer (&unique);
    }

  /* the last message cannot go into cur/: the commit fails as a whole,
   * with an error that names the message's file */
  g_assert_cmpint (g_rmdir (cur), ==, 0);
  g_assert_false (lb_maildir_batch_commit (batch, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, last));
  g_assert_cmpuint (count_files (fixture, "new"), ==, 0);

  g_clear_pointer (&batch, lb_maildir_batch_free);
  g_assert_cmpuint (count_files (fixture, "tmp"), ==, 0);
}

/* The crash tests: a child process writes, and dies. */

#define CRASH_MESSAGES 12
#define CRASH_MAX_SIZE 200000

typedef enum
{
  DIE_BY_EXIT,
  DIE_BY_KILL,
  DIE_IN_COMMIT,
} DeathKind;

static void
kill_self_halfway (LbMaildirBatch *batch,
                   guint           done,
                   guint           total,
                   gpointer        user_data)
{
  if (done == total / 2)
    raise (SIGKILL);
}

static G_NORETURN void
child_deliver_and_die (LbMaildir *maildir,
                       DeathKind  death)
{
  LbMaildirBatch *batch = lb_maildir_batch_new (maildir);

  for (guint i = 0; i < CRASH_MESSAGES; i++)
    {
      GBytes *message = make_message (i, CRASH_MAX_SIZE);
      char *unique = lb_maildir_batch_add (batch,
                                           g_bytes_get_data (message, NULL),
                                           g_bytes_get_size (message),
                                           flags_for_index (i), NULL);

      if (unique == NULL)
        _exit (2);
      g_free (unique);
      g_bytes_unref (message);
    }

  switch (death)
    {
    case DIE_BY_EXIT:
      _exit (0);

    case DIE_BY_KILL:
      raise (SIGKILL);
      break;

    case DIE_IN_COMMIT:
      lb_maildir_batch_set_progress_func (batch, kill_self_halfway, NULL);
      lb_maildir_batch_commit (batch, NULL);
      break;

    default:
      break;
    }

  /* not reached when the death came */
  _exit (3);
}

static int
run_child (LbMaildir *maildir,
           DeathKind  death)
{
  int status = 0;
  pid_t pid;

  fflush (stdout);
  fflush (stderr);
  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    child_deliver_and_die (maildir, death);

  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);

  return status;
}

static void
set_age (const char *path,
         gint64      seconds)
{
  struct timeval times[2];

  times[0].tv_sec = (time_t) (g_get_real_time () / G_USEC_PER_SEC - seconds);
  times[0].tv_usec = 0;
  times[1] = times[0];
  g_assert_cmpint (utimes (path, times), ==, 0);
}

static void
test_crash_before_commit (Fixture       *fixture,
                          gconstpointer  user_data)
{
  DeathKind death = GPOINTER_TO_INT (user_data);
  g_autoptr(GPtrArray) left = NULL;
  g_autoptr(GError) error = NULL;
  int status = run_child (fixture->maildir, death);

  if (death == DIE_BY_EXIT)
    {
      g_assert_true (WIFEXITED (status));
      g_assert_cmpint (WEXITSTATUS (status), ==, 0);
    }
  else
    {
      g_assert_true (WIFSIGNALED (status));
      g_assert_cmpint (WTERMSIG (status), ==, SIGKILL);
    }

  /* no reader sees anything of the batch */
  g_assert_cmpuint (count_files (fixture, "new"), ==, 0);
  g_assert_cmpuint (count_files (fixture, "cur"), ==, 0);
  g_assert_cmpuint (count_files (fixture, "tmp"), ==, CRASH_MESSAGES);

  /* fresh leftovers stay: they could be a delivery in progress */
  g_assert_cmpuint (lb_maildir_clean_tmp (fixture->maildir, &error), ==, 0);
  g_assert_no_error (error);

  /* all but one 37 hours old, that one 35 */
  left = list_names (fixture, "tmp");
  for (guint i = 0; i < left->len; i++)
    {
      g_autofree char *path = sub_path (fixture, "tmp", g_ptr_array_index (left, i));

      set_age (path, i == 0 ? 35 * 3600 : 37 * 3600);
    }
  g_assert_cmpuint (lb_maildir_clean_tmp (fixture->maildir, &error), ==, CRASH_MESSAGES - 1);
  g_assert_no_error (error);
  g_assert_cmpuint (count_files (fixture, "tmp"), ==, 1);
}

static void
test_crash_in_commit (Fixture       *fixture,
                      gconstpointer  user_data)
{
  g_autoptr(GHashTable) found = NULL;
  int status = run_child (fixture->maildir, DIE_IN_COMMIT);

  /* killed in the middle of moving the messages into place */
  g_assert_true (WIFSIGNALED (status));
  g_assert_cmpint (WTERMSIG (status), ==, SIGKILL);

  /* the first half is visible, each whole, and nothing else */
  found = assert_only_whole_messages (fixture, CRASH_MAX_SIZE);
  g_assert_cmpuint (g_hash_table_size (found), ==, CRASH_MESSAGES / 2);
  for (guint i = 0; i < CRASH_MESSAGES / 2; i++)
    g_assert_true (g_hash_table_contains (found, GUINT_TO_POINTER (i)));
  g_assert_cmpuint (count_files (fixture, "tmp"), ==, CRASH_MESSAGES - CRASH_MESSAGES / 2);
}

static G_NORETURN void
child_deliver_forever (LbMaildir *maildir)
{
  for (guint index = 0;;)
    {
      LbMaildirBatch *batch = lb_maildir_batch_new (maildir);
      guint size = 1 + index % 13;

      for (guint i = 0; i < size; i++, index++)
        {
          GBytes *message = make_message (index, CRASH_MAX_SIZE);
          char *unique = lb_maildir_batch_add (batch,
                                               g_bytes_get_data (message, NULL),
                                               g_bytes_get_size (message),
                                               flags_for_index (index), NULL);

          if (unique == NULL)
            _exit (2);
          g_free (unique);
          g_bytes_unref (message);
        }

      if (!lb_maildir_batch_commit (batch, NULL))
        _exit (3);
      lb_maildir_batch_free (batch);
    }
}

static void
test_crash_any_moment (Fixture       *fixture,
                       gconstpointer  user_data)
{
  g_autoptr(GHashTable) found = NULL;
  g_autoptr(GError) error = NULL;
  gint64 deadline = g_get_monotonic_time () + 15 * G_USEC_PER_SEC;
  int status = 0;
  pid_t pid;

  fflush (stdout);
  fflush (stderr);
  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    child_deliver_forever (fixture->maildir);

  /* let it get going, then kill it wherever it is */
  while (count_files (fixture, "new") + count_files (fixture, "cur") < 20 &&
         g_get_monotonic_time () < deadline)
    g_usleep (1000);
  g_usleep (g_random_int_range (0, 30000));
  g_assert_cmpint (kill (pid, SIGKILL), ==, 0);
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFSIGNALED (status));

  found = assert_only_whole_messages (fixture, CRASH_MAX_SIZE);
  g_assert_cmpuint (g_hash_table_size (found), >=, 20);
  g_test_message ("%u messages delivered before the kill, %u left in tmp/",
                  g_hash_table_size (found), count_files (fixture, "tmp"));

  /* what was in tmp/ goes once it is old */
  {
    g_autoptr(GPtrArray) left = list_names (fixture, "tmp");

    for (guint i = 0; i < left->len; i++)
      {
        g_autofree char *path = sub_path (fixture, "tmp", g_ptr_array_index (left, i));

        set_age (path, 40 * 3600);
      }
    g_assert_cmpuint (lb_maildir_clean_tmp (fixture->maildir, &error), ==, left->len);
    g_assert_no_error (error);
    g_assert_cmpuint (count_files (fixture, "tmp"), ==, 0);
  }
}

static void
assert_only_file (Fixture    *fixture,
                  const char *subdir,
                  const char *name)
{
  g_autoptr(GPtrArray) new_names = list_names (fixture, "new");
  g_autoptr(GPtrArray) cur_names = list_names (fixture, "cur");
  GPtrArray *expected = g_str_equal (subdir, "new") ? new_names : cur_names;

  g_assert_cmpuint (new_names->len + cur_names->len, ==, 1);
  g_assert_cmpuint (expected->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (expected, 0), ==, name);
}

static void
rename_in_cur (Fixture    *fixture,
               const char *from,
               const char *to)
{
  g_autofree char *from_path = sub_path (fixture, "cur", from);
  g_autofree char *to_path = sub_path (fixture, "cur", to);

  g_assert_cmpint (g_rename (from_path, to_path), ==, 0);
}

static void
test_flags (Fixture       *fixture,
            gconstpointer  user_data)
{
  const char *text = "Subject: Flags\r\n\r\nBody\r\n";
  g_autoptr(GBytes) expected = g_bytes_new_static (text, strlen (text));
  g_autoptr(GError) error = NULL;
  g_autofree char *unique = lb_maildir_deliver (fixture->maildir, text, strlen (text), 0, &error);
  g_autofree char *path = NULL;
  g_autofree char *name = NULL;
  g_autoptr(GBytes) read = NULL;
  struct stat before, after;

  g_assert_no_error (error);
  assert_only_file (fixture, "new", unique);

  path = lb_maildir_find (fixture->maildir, unique, 0, &error);
  g_assert_no_error (error);
  {
    g_autofree char *in_new = sub_path (fixture, "new", unique);

    g_assert_cmpstr (path, ==, in_new);
  }

  /* read: new/ -> cur/ with its info */
  g_assert_true (lb_maildir_set_flags (fixture->maildir, unique, 0, LB_MESSAGE_SEEN, &error));
  g_assert_no_error (error);
  name = g_strconcat (unique, ":2,S", NULL);
  assert_only_file (fixture, "cur", name);
  g_clear_pointer (&name, g_free);

  /* the same flags again leave the file alone */
  g_clear_pointer (&path, g_free);
  path = lb_maildir_find (fixture->maildir, unique, LB_MESSAGE_SEEN, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (path, &before), ==, 0);
  g_assert_true (lb_maildir_set_flags (fixture->maildir, unique, LB_MESSAGE_SEEN,
                                       LB_MESSAGE_SEEN, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (path, &after), ==, 0);
  /* a rename would have touched the change time */
  g_assert_cmpint (before.st_ino, ==, after.st_ino);
  g_assert_cmpint (before.st_ctim.tv_sec, ==, after.st_ctim.tv_sec);
  g_assert_cmpint (before.st_ctim.tv_nsec, ==, after.st_ctim.tv_nsec);

  /* another program (Dovecot, say) adds its keyword letters */
  name = g_strconcat (unique, ":2,Sac", NULL);
  rename_in_cur (fixture, strrchr (path, '/') + 1, name);
  g_clear_pointer (&name, g_free);

  /* found although the flags give another name, and the keywords stay */
  g_assert_true (lb_maildir_set_flags (fixture->maildir, unique, LB_MESSAGE_SEEN,
                                       LB_MESSAGE_SEEN | LB_MESSAGE_ANSWERED | LB_MESSAGE_FLAGGED,
                                       &error));
  g_assert_no_error (error);
  name = g_strconcat (unique, ":2,FRSac", NULL);
  assert_only_file (fixture, "cur", name);
  g_clear_pointer (&name, g_free);

  /* a hint that is wrong altogether still finds it */
  g_clear_pointer (&path, g_free);
  path = lb_maildir_find (fixture->maildir, unique, LB_MESSAGE_DRAFT, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_suffix (path, ":2,FRSac"));

  /* all flags off: it stays in cur/, keywords kept */
  g_assert_true (lb_maildir_set_flags (fixture->maildir, unique, LB_MESSAGE_DRAFT, 0, &error));
  g_assert_no_error (error);
  name = g_strconcat (unique, ":2,ac", NULL);
  assert_only_file (fixture, "cur", name);
  g_clear_pointer (&name, g_free);

  /* letters this code does not know are someone's too, and all stay in
   * ASCII order */
  name = g_strconcat (unique, ":2,ac", NULL);
  {
    g_autofree char *odd = g_strconcat (unique, ":2,FQa", NULL);

    rename_in_cur (fixture, name, odd);
  }
  g_clear_pointer (&name, g_free);
  g_assert_true (lb_maildir_set_flags (fixture->maildir, unique, LB_MESSAGE_FLAGGED,
                                       LB_MESSAGE_SEEN | LB_MESSAGE_DELETED, &error));
  g_assert_no_error (error);
  name = g_strconcat (unique, ":2,QSTa", NULL);
  assert_only_file (fixture, "cur", name);

  /* flags changed behind our back: found anyway, and read whole */
  {
    g_autofree char *changed = g_strconcat (unique, ":2,DR", NULL);

    rename_in_cur (fixture, name, changed);
  }
  read = lb_maildir_read (fixture->maildir, unique, LB_MESSAGE_SEEN, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (read, expected));

  /* removed, it is gone for every call */
  g_assert_true (lb_maildir_remove (fixture->maildir, unique, LB_MESSAGE_SEEN, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_files (fixture, "cur") + count_files (fixture, "new"), ==, 0);

  g_clear_pointer (&path, g_free);
  path = lb_maildir_find (fixture->maildir, unique, 0, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_null (path);
  g_clear_error (&error);

  g_assert_false (lb_maildir_remove (fixture->maildir, unique, 0, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_clear_pointer (&read, g_bytes_unref);
  read = lb_maildir_read (fixture->maildir, unique, 0, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_null (read);
  g_clear_error (&error);

  g_assert_false (lb_maildir_set_flags (fixture->maildir, unique, 0, LB_MESSAGE_SEEN, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);
}

static void
test_flags_no_info (Fixture       *fixture,
                    gconstpointer  user_data)
{
  g_autofree char *bare = sub_path (fixture, "cur", "1700000000.M1P2Q3.host");
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) read = NULL;

  /* some programs leave cur/ files without info */
  write_file (bare, "Subject: bare\r\n\r\n");
  path = lb_maildir_find (fixture->maildir, "1700000000.M1P2Q3.host", LB_MESSAGE_SEEN, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (path, ==, bare);

  g_assert_true (lb_maildir_set_flags (fixture->maildir, "1700000000.M1P2Q3.host", 0,
                                       LB_MESSAGE_SEEN, &error));
  g_assert_no_error (error);
  assert_only_file (fixture, "cur", "1700000000.M1P2Q3.host:2,S");

  read = lb_maildir_read (fixture->maildir, "1700000000.M1P2Q3.host", LB_MESSAGE_SEEN, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (read, NULL), g_bytes_get_size (read),
                   "Subject: bare\r\n\r\n", 17);

  /* names that would leave the Maildir are refused */
  g_clear_pointer (&path, g_free);
  path = lb_maildir_find (fixture->maildir, "../../etc/passwd", 0, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_null (path);
  g_clear_error (&error);

  g_assert_false (lb_maildir_remove (fixture->maildir, "", 0, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
}

static void
test_find_with_hint_reads_no_directory (Fixture       *fixture,
                                        gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *cur = sub_path (fixture, "cur", NULL);
  g_autofree char *unique = NULL;
  g_autofree char *path = NULL;

  if (geteuid () == 0)
    {
      g_test_skip ("root reads any directory");
      return;
    }

  unique = lb_maildir_deliver (fixture->maildir, "x", 1, LB_MESSAGE_FLAGGED, &error);
  g_assert_no_error (error);

  /* with cur/ unreadable, only the names the hint gives can be found,
   * which is what makes the right hint fast in a folder of 100,000 */
  g_assert_cmpint (g_chmod (cur, 0300), ==, 0);
  path = lb_maildir_find (fixture->maildir, unique, LB_MESSAGE_FLAGGED, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_suffix (path, ":2,F"));
  g_clear_pointer (&path, g_free);

  path = lb_maildir_find (fixture->maildir, unique, LB_MESSAGE_SEEN, &error);
  g_assert_nonnull (error);
  g_assert_false (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND));
  g_assert_null (path);
  g_assert_cmpint (g_chmod (cur, 0700), ==, 0);
}

static void
test_list (Fixture       *fixture,
           gconstpointer  user_data)
{
  const struct {
    const char *subdir;
    const char *name;
  } files[] = {
    { "new", "a" },
    { "new", ".hidden" },
    { "cur", "b:2," },
    { "cur", "c:2,FRSxyz" },
    { "cur", "d" },
    { "cur", "e:2,Zq" },
    { "cur", "f:1,experimental" },
    { "cur", ".dovecot.index" },
    { "cur", ":2,S" },
    { "tmp", "g" },
  };
  const struct {
    const char *unique;
    const char *subdir;
    const char *name;
    guint       flags;
    gboolean    is_new;
  } expected[] = {
    { "a", "new", "a", 0, TRUE },
    { "b", "cur", "b:2,", 0, FALSE },
    { "c", "cur", "c:2,FRSxyz", LB_MESSAGE_FLAGGED | LB_MESSAGE_ANSWERED | LB_MESSAGE_SEEN, FALSE },
    { "d", "cur", "d", 0, FALSE },
    { "e", "cur", "e:2,Zq", 0, FALSE },
    { "f", "cur", "f:1,experimental", 0, FALSE },
  };
  g_autofree char *subfolder = sub_path (fixture, "cur", "sub");
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = sub_path (fixture, files[i].subdir, files[i].name);

      write_file (path, files[i].name);
    }
  g_assert_cmpint (g_mkdir (subfolder, 0700), ==, 0);

  entries = lb_maildir_list (fixture->maildir, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      LbMaildirEntry *entry = g_ptr_array_index (entries, i);
      g_autofree char *path = sub_path (fixture, expected[i].subdir, expected[i].name);

      g_assert_cmpstr (entry->unique, ==, expected[i].unique);
      g_assert_cmpstr (entry->path, ==, path);
      g_assert_cmpuint (entry->flags, ==, expected[i].flags);
      g_assert_cmpint (entry->is_new, ==, expected[i].is_new);
    }

  /* not a Maildir */
  {
    g_autofree char *elsewhere = g_build_filename (fixture->tmp_dir, "nothing", NULL);
    LbMaildir *missing = lb_maildir_new (elsewhere);
    g_autoptr(GPtrArray) none = lb_maildir_list (missing, &error);

    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
    g_assert_null (none);
    g_assert_finalize_object (missing);
  }
}

static void
test_flags_from_info (void)
{
  g_assert_cmpuint (lb_maildir_flags_from_info ("2,FRS"), ==,
                    LB_MESSAGE_FLAGGED | LB_MESSAGE_ANSWERED | LB_MESSAGE_SEEN);
  g_assert_cmpuint (lb_maildir_flags_from_info (":2,DPT"), ==,
                    LB_MESSAGE_DRAFT | LB_MESSAGE_FORWARDED | LB_MESSAGE_DELETED);
  g_assert_cmpuint (lb_maildir_flags_from_info ("2,"), ==, 0);
  g_assert_cmpuint (lb_maildir_flags_from_info (""), ==, 0);
  g_assert_cmpuint (lb_maildir_flags_from_info (NULL), ==, 0);
  g_assert_cmpuint (lb_maildir_flags_from_info ("2,abcS"), ==, LB_MESSAGE_SEEN);
  g_assert_cmpuint (lb_maildir_flags_from_info ("2,XYZ"), ==, 0);
  g_assert_cmpuint (lb_maildir_flags_from_info ("2,s"), ==, 0);
  /* an experimental info says nothing about flags */
  g_assert_cmpuint (lb_maildir_flags_from_info ("1,S"), ==, 0);

  /* every combination survives the trip through the letters */
  for (guint flags = 0; flags <= LB_MESSAGE_FLAGS_ALL; flags++)
    {
      g_autofree char *letters = lb_message_flags_to_string (flags);
      g_autofree char *info = g_strconcat ("2,", letters, NULL);

      g_assert_cmpuint (lb_maildir_flags_from_info (info), ==, flags);
    }
}

static const char python_script[] =
  "import mailbox, sys\n"
  "box = mailbox.Maildir(sys.argv[1], factory=None, create=False)\n"
  "for key in sorted(box.keys()):\n"
  "    msg = box[key]\n"
  "    print(key, msg.get_subdir(), msg.get_flags() or '-', msg['Subject'], sep='\\t')\n"
  "msg = mailbox.MaildirMessage(b'From: py@example.test\\nSubject: From Python\\n\\nHello\\n')\n"
  "msg.set_subdir('cur')\n"
  "msg.set_flags('SF')\n"
  "print(box.add(msg))\n";

static void
test_python_reads_and_writes (Fixture       *fixture,
                              gconstpointer  user_data)
{
  const struct {
    const char *subject;
    guint       flags;
    const char *subdir;
    const char *letters;
  } messages[] = {
    { "Unread", 0, "new", "-" },
    { "Read and answered", LB_MESSAGE_SEEN | LB_MESSAGE_ANSWERED, "cur", "RS" },
    { "Starred", LB_MESSAGE_FLAGGED, "cur", "F" },
  };
  g_autofree char *python = g_find_program_in_path ("python3");
  g_autoptr(GPtrArray) expected_lines = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GBytes) read = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_auto(GStrv) lines = NULL;
  const char *python_message = "From: py@example.test\nSubject: From Python\n\nHello\n";
  LbMaildirEntry *from_python = NULL;
  const char *python_key;

  if (python == NULL)
    {
      g_test_skip ("python3 is not installed");
      return;
    }

  for (guint i = 0; i < G_N_ELEMENTS (messages); i++)
    {
      g_autofree char *text = g_strdup_printf ("From: me@example.test\r\n"
                                               "Subject: %s\r\n"
                                               "\r\n"
                                               "Body %u\r\n",
                                               messages[i].subject, i);
      g_autofree char *unique = lb_maildir_deliver (fixture->maildir, text, strlen (text),
                                                    messages[i].flags, &error);

      g_assert_no_error (error);
      g_ptr_array_add (expected_lines,
                       g_strdup_printf ("%s\t%s\t%s\t%s", unique, messages[i].subdir,
                                        messages[i].letters, messages[i].subject));
    }

  process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                              &error, python, "-c", python_script, fixture->path, NULL);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_communicate_utf8 (process, NULL, NULL, &out, &err, &error));
  g_assert_no_error (error);
  if (!g_subprocess_get_successful (process))
    g_test_message ("python3 said: %s", err);
  g_assert_true (g_subprocess_get_successful (process));

  /* Python sees each message with its flags and subject */
  lines = g_strsplit (g_strchomp (out), "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, G_N_ELEMENTS (messages) + 1);
  {
    g_autoptr(GPtrArray) got = g_ptr_array_new ();

    for (guint i = 0; i < G_N_ELEMENTS (messages); i++)
      g_ptr_array_add (got, lines[i]);
    for (guint i = 0; i < G_N_ELEMENTS (messages); i++)
      {
        gboolean seen = FALSE;

        for (guint j = 0; j < got->len; j++)
          seen = seen || g_str_equal (g_ptr_array_index (got, j),
                                      g_ptr_array_index (expected_lines, i));
        if (!seen)
          g_test_message ("expected %s", (char *) g_ptr_array_index (expected_lines, i));
        g_assert_true (seen);
      }
  }

  /* and what Python delivered, we import */
  python_key = lines[G_N_ELEMENTS (messages)];
  entries = lb_maildir_list (fixture->maildir, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, G_N_ELEMENTS (messages) + 1);
  for (guint i = 0; i < entries->len; i++)
    {
      LbMaildirEntry *entry = g_ptr_array_index (entries, i);

      if (g_str_equal (entry->unique, python_key))
        from_python = entry;
    }
  g_assert_nonnull (from_python);
  g_assert_cmpuint (from_python->flags, ==, LB_MESSAGE_SEEN | LB_MESSAGE_FLAGGED);
  g_assert_false (from_python->is_new);

  read = lb_maildir_read (fixture->maildir, from_python->unique, from_python->flags, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (read, NULL), g_bytes_get_size (read),
                   python_message, strlen (python_message));
}

/* Two threads delivering at once never pick the same name. */

#define THREAD_MESSAGES 1000

typedef struct
{
  LbMaildir *maildir;
  guint      thread;
  GPtrArray *uniques;
} ThreadData;

static char *
thread_message (guint thread,
                guint index)
{
  return g_strdup_printf ("Subject: thread %u message %u\r\n\r\n%u/%u\r\n",
                          thread, index, thread, index);
}

static gpointer
deliver_thread (gpointer user_data)
{
  ThreadData *data = user_data;
  /* small batches (an fsync each) and large ones (one syncfs) */
  const guint batch_sizes[] = { 1, 2, 5, 10, 100 };
  guint index = 0;

  for (guint round = 0; index < THREAD_MESSAGES; round++)
    {
      g_autoptr(LbMaildirBatch) batch = lb_maildir_batch_new (data->maildir);
      g_autoptr(GError) error = NULL;
      guint size = batch_sizes[round % G_N_ELEMENTS (batch_sizes)];

      for (guint i = 0; i < size && index < THREAD_MESSAGES; i++, index++)
        {
          g_autofree char *text = thread_message (data->thread, index);
          char *unique = lb_maildir_batch_add (batch, text, strlen (text), 0, &error);

          g_assert_no_error (error);
          g_ptr_array_add (data->uniques, unique);
        }

      g_assert_true (lb_maildir_batch_commit (batch, &error));
      g_assert_no_error (error);
    }

  return NULL;
}

static void
test_threads (Fixture       *fixture,
              gconstpointer  user_data)
{
  ThreadData data[2];
  GThread *threads[2];
  g_autoptr(GHashTable) all = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint t = 0; t < G_N_ELEMENTS (threads); t++)
    {
      data[t].maildir = fixture->maildir;
      data[t].thread = t;
      data[t].uniques = g_ptr_array_new_with_free_func (g_free);
      threads[t] = g_thread_new ("deliver", deliver_thread, &data[t]);
    }
  for (guint t = 0; t < G_N_ELEMENTS (threads); t++)
    g_thread_join (threads[t]);

  g_assert_cmpuint (count_files (fixture, "new"), ==, 2 * THREAD_MESSAGES);
  g_assert_cmpuint (count_files (fixture, "tmp"), ==, 0);

  for (guint t = 0; t < G_N_ELEMENTS (threads); t++)
    {
      g_assert_cmpuint (data[t].uniques->len, ==, THREAD_MESSAGES);
      for (guint i = 0; i < data[t].uniques->len; i++)
        {
          const char *unique = g_ptr_array_index (data[t].uniques, i);
          g_autofree char *text = thread_message (t, i);
          g_autoptr(GError) error = NULL;
          g_autoptr(GBytes) read = lb_maildir_read (fixture->maildir, unique, 0, &error);

          g_assert_no_error (error);
          g_assert_cmpmem (g_bytes_get_data (read, NULL), g_bytes_get_size (read),
                           text, strlen (text));
          g_assert_false (g_hash_table_contains (all, unique));
          g_hash_table_add (all, (gpointer) unique);
        }
    }
  g_assert_cmpuint (g_hash_table_size (all), ==, 2 * THREAD_MESSAGES);

  for (guint t = 0; t < G_N_ELEMENTS (threads); t++)
    g_ptr_array_unref (data[t].uniques);
}

#define ADD_FIXTURE_TEST(path, func, data) \
  g_test_add (path, Fixture, data, fixture_set_up, func, fixture_tear_down)

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/maildir/ensure", test_ensure);
  ADD_FIXTURE_TEST ("/maildir/batch/commit", test_batch_commit, NULL);
  ADD_FIXTURE_TEST ("/maildir/batch/empty-and-odd", test_batch_empty_and_odd, NULL);
  ADD_FIXTURE_TEST ("/maildir/batch/abort", test_batch_abort, NULL);
  ADD_FIXTURE_TEST ("/maildir/batch/failed-commit", test_batch_failed_commit, NULL);
  ADD_FIXTURE_TEST ("/maildir/crash/exit-before-commit", test_crash_before_commit,
                    GINT_TO_POINTER (DIE_BY_EXIT));
  ADD_FIXTURE_TEST ("/maildir/crash/kill-before-commit", test_crash_before_commit,
                    GINT_TO_POINTER (DIE_BY_KILL));
  ADD_FIXTURE_TEST ("/maildir/crash/kill-in-commit", test_crash_in_commit, NULL);
  ADD_FIXTURE_TEST ("/maildir/crash/kill-any-moment", test_crash_any_moment, NULL);
  ADD_FIXTURE_TEST ("/maildir/flags/rename", test_flags, NULL);
  ADD_FIXTURE_TEST ("/maildir/flags/no-info", test_flags_no_info, NULL);
  ADD_FIXTURE_TEST ("/maildir/find/hint-reads-no-directory",
                    test_find_with_hint_reads_no_directory, NULL);
  ADD_FIXTURE_TEST ("/maildir/list", test_list, NULL);
  g_test_add_func ("/maildir/flags-from-info", test_flags_from_info);
  ADD_FIXTURE_TEST ("/maildir/python", test_python_reads_and_writes, NULL);
  ADD_FIXTURE_TEST ("/maildir/threads", test_threads, NULL);

  return g_test_run ();
}
