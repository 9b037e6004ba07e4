-- Seed: product groups, products and sample orders on 2026-11-19 .. 2026-11-21 (UTC).
-- `make demo` reports on 2026-11-20. Timestamps below are UTC.
USE cafe_db;
SET time_zone = '+00:00';

INSERT INTO product_group (product_group_number, product_group_name) VALUES (1, 'Pastries'), (2, 'Drinks');

INSERT INTO product (id, product_name, description, price, product_group, image_url) VALUES
  (1, 'Croissant', 'Fresh, buttery and fluffy... Simply delicious!', 1.50, 1, 'images/croissants.png'),
  (2, 'Donut', 'We have more than half-a-dozen flavors!', 1.00, 1, 'images/donuts.png'),
  (3, 'Chocolate Chip Cookie', 'Made with Swiss chocolate with a touch of Madagascar vanilla', 2.50, 1, 'images/chocolate-chip-cookies.png'),
  (4, 'Muffin', 'Banana bread, blueberry, cranberry or apple', 3.00, 1, 'images/muffins.png'),
  (5, 'Strawberry Blueberry Tart', 'Bursting with the taste and aroma of fresh fruit', 3.50, 1, 'images/strawberry-blueberry-tarts.png'),
  (6, 'Strawberry Tart', 'Made with fresh ripe strawberries and a delicious whipped cream', 3.50, 1, 'images/strawberry-tarts.png'),
  (7, 'Coffee', 'Freshly-ground black or blended Columbian coffee', 3.00, 2, 'images/coffee.png'),
  (8, 'Hot Chocolate', 'Rich and creamy, and made with real chocolate', 3.00, 2, 'images/cup-of-hot-chocolate.png'),
  (9, 'Latte', 'Offered hot or cold and in various delicious flavors', 3.50, 2, 'images/latte.png');

INSERT INTO `order` (order_number, order_date_time, amount) VALUES
  (1, '2026-11-19 08:28:00', 23.00),
  (2, '2026-11-19 10:06:00', 14.50),
  (3, '2026-11-19 12:57:00', 17.50),
  (4, '2026-11-19 14:05:00', 8.50),
  (5, '2026-11-19 16:23:00', 12.50),
  (6, '2026-11-19 18:49:00', 27.00),
  (7, '2026-11-20 08:46:00', 16.50),
  (8, '2026-11-20 10:29:00', 22.50),
  (9, '2026-11-20 12:00:00', 17.50),
  (10, '2026-11-20 14:37:00', 2.00),
  (11, '2026-11-20 16:55:00', 21.00),
  (12, '2026-11-20 18:01:00', 9.00),
  (13, '2026-11-21 08:01:00', 3.50),
  (14, '2026-11-21 10:03:00', 12.00),
  (15, '2026-11-21 12:22:00', 12.50),
  (16, '2026-11-21 14:13:00', 3.50),
  (17, '2026-11-21 16:30:00', 31.50),
  (18, '2026-11-21 18:37:00', 2.50);

INSERT INTO order_item (order_number, order_item_number, product_id, quantity, amount) VALUES
  (1, 1, 9, 2, 7.00),
  (1, 2, 7, 2, 6.00),
  (1, 3, 3, 4, 10.00),
  (2, 1, 3, 3, 7.50),
  (2, 2, 9, 2, 7.00),
  (3, 1, 6, 2, 7.00),
  (3, 2, 9, 3, 10.50),
  (4, 1, 1, 3, 4.50),
  (4, 2, 2, 4, 4.00),
  (5, 1, 7, 3, 9.00),
  (5, 2, 6, 1, 3.50),
  (6, 1, 4, 4, 12.00),
  (6, 2, 6, 4, 14.00),
  (6, 3, 2, 1, 1.00),
  (7, 1, 6, 3, 10.50),
  (7, 2, 1, 4, 6.00),
  (8, 1, 7, 4, 12.00),
  (8, 2, 5, 3, 10.50),
  (9, 1, 8, 3, 9.00),
  (9, 2, 1, 1, 1.50),
  (9, 3, 5, 2, 7.00),
  (10, 1, 2, 2, 2.00),
  (11, 1, 5, 4, 14.00),
  (11, 2, 6, 2, 7.00),
  (12, 1, 8, 3, 9.00),
  (13, 1, 2, 1, 1.00),
  (13, 2, 3, 1, 2.50),
  (14, 1, 7, 3, 9.00),
  (14, 2, 4, 1, 3.00),
  (15, 1, 1, 1, 1.50),
  (15, 2, 3, 3, 7.50),
  (15, 3, 9, 1, 3.50),
  (16, 1, 9, 1, 3.50),
  (17, 1, 7, 4, 12.00),
  (17, 2, 5, 3, 10.50),
  (17, 3, 8, 3, 9.00),
  (18, 1, 1, 1, 1.50),
  (18, 2, 2, 1, 1.00);
