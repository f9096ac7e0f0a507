// SPDX-License-Identifier: MIT
// Placeholder until the tunnel spec parser lands.
