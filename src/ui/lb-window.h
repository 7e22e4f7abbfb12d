/* lb-window.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "lb-application.h"

G_BEGIN_DECLS

#define LB_TYPE_WINDOW (lb_window_get_type ())

G_DECLARE_FINAL_TYPE (LbWindow, lb_window, LB, WINDOW, AdwApplicationWindow)

LbWindow   *lb_window_new          (LbApplication *application,
                                    GSettings     *settings);
const char *lb_window_get_page     (LbWindow      *self);

G_END_DECLS
