from typing import Annotated

from flask import Flask
from pydantic import BaseModel
from pydantic import Field

from flask_mcp import FlaskMCP

app = Flask(__name__)
mcp = FlaskMCP(app, name="Shop")


class Address(BaseModel):
    street: str
    city: str


class Order(BaseModel):
    """An order to place."""

    item: str = Field(min_length=1)
    quantity: int = Field(ge=1, le=10, description="How many, at most 10.")
    ship_to: Address


class Receipt(BaseModel):
    order_id: int
    total: float


@mcp.tool
def place_order(
    order: Order, coupon: Annotated[str, Field(max_length=12)] = ""
) -> Receipt:
    """Place an order; the receipt is structured output."""
    return Receipt(order_id=42, total=order.quantity * 9.5)
