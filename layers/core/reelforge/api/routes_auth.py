"""Accounts, sessions (JWT) and scoped API tokens (AutoVio's contract)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Response
from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from reelforge import auth
from reelforge.api.deps import current_principal
from reelforge.api.openapi import errors
from reelforge.auth import Principal
from reelforge.fields import BlankIsAbsent, Integer, Listed, name_field
from reelforge.store import Keys, NotFound, Table

router = APIRouter(prefix="/api", tags=["auth"])


Name = name_field(100)


class RegisterBody(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"email": "ada@example.com", "password": "correct horse battery", "name": "Ada"}]})
    email: EmailStr
    password: str = Field(min_length=8, max_length=256)
    name: Name


class LoginBody(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"email": "ada@example.com", "password": "correct horse battery"}]})
    # Any string: an address that cannot be registered is answered like a wrong password.
    email: str = Field(min_length=1, max_length=320, json_schema_extra={"format": "email"})
    password: str = Field(min_length=1, max_length=256)


class RefreshBody(BaseModel):
    refreshToken: str = Field(min_length=1)


class TokenBody(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"name": "render farm", "scopes": ["projects:read", "ai:generate"], "expiresInDays": 90}]})
    name: Name
    scopes: list[Annotated[str, Listed(auth.SCOPES)]] = Field(min_length=1)
    expiresInDays: Annotated[Integer | None, BlankIsAbsent] = Field(default=None, gt=0, le=3650)

    @field_validator("scopes")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        unknown = sorted(set(v) - set(auth.SCOPES))
        if unknown:
            raise ValueError(f"unknown scopes {unknown}; valid: {list(auth.SCOPES)}")
        return v


# --- answers (typed, so the OpenAPI states them and the fuzzer checks them) ---------------

class User(BaseModel):
    id: str
    email: str
    name: str
    createdAt: str
    updatedAt: str | None = None


class Tokens(BaseModel):
    accessToken: str
    refreshToken: str


class Session(Tokens):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "user": {"id": "u_5e1f", "email": "ada@example.com", "name": "Ada",
                 "createdAt": "2026-12-02T04:11:16Z"},
        "accessToken": "eyJhbGciOiJIUzI1NiJ9...", "refreshToken": "eyJhbGciOiJIUzI1NiJ9..."}]})
    user: User


class Me(User):
    scopes: list[str]
    authenticatedWith: Literal["jwt", "token"]


class TokenMeta(BaseModel):
    id: str
    name: str
    tokenPrefix: str
    scopes: list[str]
    lastUsedAt: str | None
    expiresAt: str | None
    createdAt: str


class CreatedToken(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "token": "rf_3kQ...", "meta": {"id": "t_81a2", "name": "render farm", "tokenPrefix": "rf_3kQ",
                                       "scopes": ["projects:read", "ai:generate"], "lastUsedAt": None,
                                       "expiresAt": "2027-03-02T04:11:16Z", "createdAt": "2026-12-02T04:11:16Z"}}]})
    token: str = Field(description="The token itself: shown this once, only its hash is kept")
    meta: TokenMeta


def _session(user: dict[str, Any]) -> dict[str, Any]:
    return {"user": auth.public_user(user), **auth.issue_tokens(user)}


@router.post("/auth/register", status_code=201, responses=errors(409), response_model=Session)
def register(body: RegisterBody) -> dict[str, Any]:
    try:
        user = auth.register(body.email, body.password, body.name)
    except auth.EmailTaken as exc:
        raise HTTPException(409, "Email already registered") from exc
    return _session(user)


@router.post("/auth/login", responses=errors(401), response_model=Session)
def login(body: LoginBody) -> dict[str, Any]:
    try:
        return _session(auth.login(body.email, body.password))
    except auth.AuthError as exc:
        raise HTTPException(401, str(exc)) from exc


@router.post("/auth/refresh", responses=errors(401), response_model=Tokens)
def refresh(body: RefreshBody) -> dict[str, str]:
    try:
        return auth.issue_tokens(auth.refresh(body.refreshToken))
    except auth.AuthError as exc:
        raise HTTPException(401, str(exc)) from exc


@router.get("/auth/me", response_model=Me)
@router.get("/me", response_model=Me)
def me(principal: Principal = Depends(current_principal)) -> dict[str, Any]:
    user = auth.public_user(Table().get(Keys.user(principal.user_id)))
    return {**user, "scopes": sorted(principal.scopes), "authenticatedWith": principal.via}


@router.get("/tokens", response_model=list[TokenMeta])
def list_tokens(principal: Principal = Depends(current_principal)) -> list[dict[str, Any]]:
    return auth.list_api_tokens(principal)


@router.post("/tokens", status_code=201, responses=errors(403), response_model=CreatedToken)
def create_token(body: TokenBody, principal: Principal = Depends(current_principal)) -> dict:
    # A token can't grant more than its creator holds (an API token minting a wider one).
    wider = sorted(set(body.scopes) - principal.scopes)
    if wider:
        raise HTTPException(403, f"Insufficient permissions: cannot grant {', '.join(wider)}")
    token, meta = auth.create_api_token(principal, body.name, body.scopes, body.expiresInDays)
    return {"token": token, "meta": meta}


@router.delete("/tokens/{token_id}", status_code=204, responses=errors(403))
def delete_token(token_id: str, principal: Principal = Depends(current_principal)) -> Response:
    try:
        auth.delete_api_token(principal, token_id)
    except NotFound as exc:
        raise HTTPException(404, "Token not found") from exc
    except auth.ScopeError as exc:
        raise HTTPException(403, f"Insufficient permissions: {exc}") from exc
    return Response(status_code=204)
