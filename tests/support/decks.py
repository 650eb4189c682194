"""A small valid deck (two questions, one follow-up) for tests that write their own deck files."""

from __future__ import annotations

GOOD = """# Chemistry basics
---

### **1. What is an atom?**

**Theory:**
The smallest unit of an **element**.

**Follow-up Question:**
*What is inside it?*
**Answer:**
**Protons**, **neutrons** and **electrons**.

---

### **2. What is a molecule?**

**Theory:**
Atoms held together by **chemical bonds**.
"""
