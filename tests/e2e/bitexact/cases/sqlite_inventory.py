"""sqlite3 (in-memory): inventory schema, parameterised queries, aggregates, transactions, rollback, row factory."""
import sqlite3

con = sqlite3.connect(":memory:")
con.executescript("""
CREATE TABLE product (id INTEGER PRIMARY KEY, sku TEXT UNIQUE NOT NULL, name TEXT, price_cents INTEGER);
CREATE TABLE stock (product_id INTEGER REFERENCES product(id), warehouse TEXT, qty INTEGER CHECK (qty >= 0));
""")
products = [("A-1", "anvil", 12999), ("B-2", "bolt", 15), ("C-3", "crate", 2450), ("D-4", "drill", 8999)]
con.executemany("INSERT INTO product (sku, name, price_cents) VALUES (?, ?, ?)", products)
stock = [(1, "north", 3), (2, "north", 500), (2, "south", 250), (3, "south", 12), (4, "east", 0)]
con.executemany("INSERT INTO stock VALUES (?, ?, ?)", stock)
con.commit()

rows = con.execute("""
    SELECT p.sku, p.name, SUM(s.qty) AS units, SUM(s.qty * p.price_cents) AS value
    FROM product p JOIN stock s ON s.product_id = p.id
    GROUP BY p.id ORDER BY value DESC, p.sku
""").fetchall()
for sku, name, units, value in rows:
    print(f"{sku:<4} {name:<6} {units:>5} {value / 100:>10.2f}")

con.row_factory = sqlite3.Row
r = con.execute("SELECT warehouse, COUNT(*) AS n, MAX(qty) AS top FROM stock GROUP BY warehouse ORDER BY warehouse").fetchall()
print([dict(x) for x in r], r[0].keys())
con.row_factory = None

try:
    with con:
        con.execute("UPDATE stock SET qty = qty - 5 WHERE product_id = 1")
except sqlite3.IntegrityError as e:
    print("IntegrityError:", e)
print("after rollback:", con.execute("SELECT qty FROM stock WHERE product_id = 1").fetchone()[0])
try:
    con.execute("INSERT INTO product (sku, name) VALUES ('A-1', 'dup')")
except sqlite3.IntegrityError as e:
    print("IntegrityError:", e)

con.create_function("cents", 1, lambda c: "%d.%02d" % divmod(c, 100))
print(con.execute("SELECT name, cents(price_cents) FROM product WHERE price_cents > :min ORDER BY name",
                  {"min": 100}).fetchall())
cur = con.execute("SELECT typeof(1), typeof(1.5), typeof('x'), typeof(x'00ff'), typeof(NULL), 7 / 2, 7 / 2.0")
print(tuple(cur.fetchone()), [d[0] for d in cur.description])
print(con.execute("SELECT ?, ?, ?", (b"\x00\xff", 2 ** 62, "é😀")).fetchone()[:])
print(con.execute("SELECT group_concat(name, '|') FROM (SELECT name FROM product ORDER BY name)").fetchone()[0])
print(con.total_changes, con.in_transaction, sqlite3.paramstyle)
try:
    con.execute("SELEC 1")
except sqlite3.OperationalError as e:
    print("OperationalError:", e)
print([str(line) for line in con.iterdump()][:3])
con.close()
