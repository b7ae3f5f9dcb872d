"""W3C Bitstring Status Lists: allocation, signed lists, their endpoints."""
