// SPDX-License-Identifier: MIT
// Placeholder until the policy module lands.
