-- The café warehouse (star schema), loaded by orderEtl from the DynamoDB stream of `orders`.
-- Rows are upserted by natural key; `deleted` marks lines of cancelled or shortened orders.
CREATE DATABASE IF NOT EXISTS cafe_dw CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
USE cafe_dw;

CREATE TABLE IF NOT EXISTS dim_date (
  date_key INT NOT NULL PRIMARY KEY, -- yyyymmdd
  full_date DATE NOT NULL,
  year SMALLINT NOT NULL,
  month TINYINT NOT NULL,
  day TINYINT NOT NULL,
  weekday TINYINT NOT NULL, -- ISO: 1 = Monday
  weekday_name VARCHAR(9) NOT NULL
);

CREATE TABLE IF NOT EXISTS dim_product (
  product_id INT NOT NULL PRIMARY KEY,
  product_name VARCHAR(40) NOT NULL,
  product_group VARCHAR(25) NOT NULL,
  updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP
);

CREATE TABLE IF NOT EXISTS fact_order_line (
  order_id VARCHAR(64) NOT NULL,
  line_number SMALLINT NOT NULL,
  date_key INT NOT NULL,
  product_id INT NOT NULL,
  quantity INT NOT NULL,
  unit_price DECIMAL(10, 2) NOT NULL,
  amount DECIMAL(12, 2) NOT NULL,
  order_status VARCHAR(16) NOT NULL,
  deleted TINYINT(1) NOT NULL DEFAULT 0,
  source_sequence DECIMAL(40, 0) NOT NULL, -- the stream change the row comes from: newer wins
  loaded_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (order_id, line_number),
  INDEX idx_date_product (date_key, product_id),
  CONSTRAINT fk_fact_date FOREIGN KEY (date_key) REFERENCES dim_date (date_key),
  CONSTRAINT fk_fact_product FOREIGN KEY (product_id) REFERENCES dim_product (product_id)
);
