-- café database schema (MariaDB 10.11 / MySQL 8.4). Run by the mariadb image's entrypoint in
-- Docker mode and by tools/stack.py in host mode.
CREATE DATABASE IF NOT EXISTS cafe_db CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
USE cafe_db;

CREATE TABLE IF NOT EXISTS product_group (
  product_group_number INT NOT NULL PRIMARY KEY,
  product_group_name VARCHAR(25) NOT NULL
);

CREATE TABLE IF NOT EXISTS product (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  product_name VARCHAR(40) NOT NULL,
  description VARCHAR(255),
  price DECIMAL(10, 2) NOT NULL,
  product_group INT NOT NULL,
  image_url VARCHAR(255),
  CONSTRAINT fk_product_group FOREIGN KEY (product_group) REFERENCES product_group (product_group_number)
);

CREATE TABLE IF NOT EXISTS `order` (
  order_number INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  order_date_time TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  amount DECIMAL(10, 2) NOT NULL,
  -- the daily report filters on this column
  INDEX idx_order_date_time (order_date_time)
);

CREATE TABLE IF NOT EXISTS order_item (
  order_number INT NOT NULL,
  order_item_number INT NOT NULL,
  product_id INT NOT NULL,
  quantity INT NOT NULL,
  amount DECIMAL(10, 2) NOT NULL,
  PRIMARY KEY (order_number, order_item_number),
  CONSTRAINT fk_order_item_order FOREIGN KEY (order_number) REFERENCES `order` (order_number),
  CONSTRAINT fk_order_item_product FOREIGN KEY (product_id) REFERENCES product (id)
);
