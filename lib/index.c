// SPDX-License-Identifier: GPL-2.0-only
/* Placeholder: filled in by its component. */
