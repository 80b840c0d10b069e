# Copyright (c) Microsoft Corporation
# SPDX-License-Identifier: MIT
mov %r0, -10
exit
