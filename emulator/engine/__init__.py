"""The reference engine: the upload lifecycle, the rules applied a column batch at a time, and
the read side, over the store (:mod:`emulator.store`).

============  ==================================================================
module        what lives there
============  ==================================================================
facade        :class:`Emulator`, one method per operation of the real service
sources       files, JSON bodies and records → parsed column batches
accept        the lifecycle: validate → record → process when due
uploads       accepting and processing uploads over the store
process       one upload's pending parts applied a batch at a time
orders        orders and simple orders: merge rounds, create dates, windows, cap
contacts      contacts, customers of simple orders, re-linking
link          which visit an order belongs to
fire          goal reaches of status fixations and ``goals`` cells
offline       offline conversions and calls
state, arrays records being applied, and the column operations the steps share
work, ledger  the unit of work and what it records (decisions, reaches, rows)
explain       decision codes and parameters → sentences
visits        a counter's visits in memory and its link indexes
visitbook     those tables for every counter, built from the store
reads         read-side queries: orders, decisions, goal reaches, offline rows
reports       "Order sources from CRM", goal reports, Reporting API tables
reportviews   the table by time interval (bytime) and by segment (comparison)
reportnames   the Reporting API's metric, dimension and preset names
reportkeys    dimensions as small integer codes; engines: ``SourceEngine`` ids
reportquery   a report query checked; periods: ``group`` and ``datePeriod``
filters       the ``filters`` syntax; segments: filters over a report's items
attribution   attribution models over every visit at once
counters      counter setup and goals; catalog: status mapping, attributes, products
============  ==================================================================
"""
