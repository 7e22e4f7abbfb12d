/* lb-test-composer.h: finding and typing into the composer, for UI tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "lb-composer-window.h"

G_BEGIN_DECLS

/* the composer window, once one is open and drawn; fails the test after
 * 30 s, naming @what it waited for */
LbComposerWindow *lb_test_composer_wait      (const char       *what);
/* focuses the entry with the template id @id and sets its text */
void              lb_test_composer_type_into (LbComposerWindow *composer,
                                              const char       *id,
                                              const char       *text);
/* focuses the text and inserts @text at its start */
void              lb_test_composer_type_body (LbComposerWindow *composer,
                                              const char       *text);
/* the whole text */
char             *lb_test_composer_dup_body  (LbComposerWindow *composer);

G_END_DECLS
