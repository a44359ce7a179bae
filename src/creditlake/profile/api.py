"""The enterprise profile as a query service (企业信用信息查询服务): FastAPI on the serving store.

Three roles, each with its token (creditlake.profile.tokens): the public reads public columns only, as the national
enterprise credit publicity system publishes; a department reads department-level columns too, and its own datasets
whole, for the purposes its token names; the regulator reads everything. Every lookup is a ledger entry.
Errors a user reads are one Chinese line: 400 a malformed code (with the GB 32100 reason), 401 no or an unknown
token, 403 a role or purpose not allowed, 404 an unknown enterprise or class.
"""


import json
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from creditlake.catalogue import Catalogue, default_catalogue
from creditlake.ledger.group_commit import GroupCommit
from creditlake.profile.definition import ROLE_NAMES
from creditlake.profile.lookup import (
    BadCode, NotFound, Reader, category_code, definition, enterprise_profile, record_lookup, search_by_name,
)
from creditlake.profile.tokens import Holder, TokenBook
from creditlake.settings import Settings, get_settings

PUBLIC_PURPOSE = "公开信息查询"
# The router's own messages, as a user reads them.
GENERIC = {"Not Found": "没有这个查询地址（见 /docs）", "Method Not Allowed": "不支持此请求方法（只读服务，用 GET）"}
REGULATOR_PURPOSE = "信用监管"


class JSONUTF8(Response):
    """JSON with Chinese as characters (not \\u escapes), dates as ISO text, decimals as numbers. Handlers return
    it themselves: FastAPI's own encoding would first turn decimals into text (and walk every record once more)."""

    media_type = "application/json; charset=utf-8"

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, default=_plain, separators=(",", ":")).encode("utf-8")


def _plain(value: Any) -> Any:
    from decimal import Decimal

    if isinstance(value, Decimal):
        return float(value)
    return str(value)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status, media_type="application/json; charset=utf-8")


def create_app(settings: Settings | None = None, catalogue: Catalogue | None = None) -> FastAPI:
    """The service for one home: its serving store, its token store, its ledger."""
    from creditlake.pseudonymise import load_key, pseudonym
    from creditlake.serve.store import StoreReader

    settings = settings or get_settings()
    catalogue = catalogue or default_catalogue()
    store = StoreReader(settings)
    book = TokenBook(settings)
    key = load_key(settings)
    ledger = GroupCommit(settings)
    bearer = HTTPBearer(auto_error=False, description="访问令牌（creditlake api issue-token）")

    app = FastAPI(title="企业信用信息查询服务", version="1",
                  description="企业全景画像：按信息大类、小类返回，按角色（社会公众、政府部门、市场监管部门）披露。"
                              "每次查询记入不可篡改的审计账本。", default_response_class=JSONUTF8)

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        where = "、".join(str(p) for p in first.get("loc", ())[1:]) or "请求"
        return _error(400, f"请求参数有误：{where}（{first.get('msg', '')}）")

    @app.exception_handler(StarletteHTTPException)  # ours, and the router's own (an unknown path, a wrong method)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        response = _error(exc.status_code, GENERIC.get(str(exc.detail), str(exc.detail)))
        if exc.status_code == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        return response

    def caller(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Holder:
        if credentials is None:
            raise HTTPException(401, "缺少访问令牌：请在 Authorization 头中以 Bearer 方式提供")
        holder = book.holder(credentials.credentials)
        if holder is None:
            raise HTTPException(401, "访问令牌无效或已注销")
        return holder

    def purpose_of(holder: Holder, purpose: str | None) -> str:
        if holder.role == "public":
            return purpose or PUBLIC_PURPOSE
        if holder.role == "department":
            if not purpose:
                raise HTTPException(400, f"政府部门查询须说明用途（purpose），可用：{'、'.join(holder.purposes)}")
            if purpose not in holder.purposes:
                raise HTTPException(403, f"用途“{purpose}”不在本令牌的授权范围内（{'、'.join(holder.purposes)}）")
            return purpose
        return purpose or REGULATOR_PURPOSE

    def looked_up(holder: Holder, uscc: str, purpose: str, classes: list[str]) -> None:
        record_lookup(settings, uscc, pseudonym(holder.holder, key), purpose, holder.role, classes, ledger.append)

    def profile_of(holder: Holder, uscc: str, purpose: str | None, category: str | None = None):
        why = purpose_of(holder, purpose)
        try:
            profile = enterprise_profile(store.query, catalogue, uscc, Reader(holder.role, holder.department),
                                         category)
        except BadCode as exc:
            raise HTTPException(400, str(exc)) from None
        except NotFound as exc:
            raise HTTPException(404, str(exc)) from None
        looked_up(holder, profile.enterprise_id, why, [c["code"] for c in profile.classes])
        return JSONUTF8({**profile.as_dict(), "role_name": ROLE_NAMES[holder.role]})

    Purpose = Annotated[str | None, Query(description="查询用途（政府部门必填，须在令牌授权范围内）")]

    @app.get("/enterprises/{uscc}", summary="企业全景画像（按信息大类）")
    def whole_profile(uscc: str, holder: Annotated[Holder, Depends(caller)], purpose: Purpose = None) -> Any:
        return profile_of(holder, uscc, purpose)

    @app.get("/enterprises/{uscc}/classes/{category}", summary="企业某一信息大类")
    def one_class(uscc: str, category: str, holder: Annotated[Holder, Depends(caller)],
                  purpose: Purpose = None) -> Any:
        try:
            code = category_code(category)
        except KeyError:
            raise HTTPException(404, f"没有名为“{category}”的信息大类") from None
        return profile_of(holder, uscc, purpose, code)

    @app.get("/classes", summary="信息大类、小类及各小类的字段（按本令牌的角色）")
    def classes(holder: Annotated[Holder, Depends(caller)]) -> Any:
        reader = Reader(holder.role, holder.department)
        found = definition(catalogue, reader)
        return JSONUTF8({"role": holder.role, "role_name": ROLE_NAMES[holder.role],
                         "subclasses": sum(len(c["subclasses"]) for c in found), "classes": found})

    @app.get("/enterprises", summary="按企业名称查询")
    def search(holder: Annotated[Holder, Depends(caller)],
               name: Annotated[str, Query(min_length=2, max_length=50, description="企业名称中的文字（至少2个字）")],
               limit: Annotated[int, Query(ge=1, le=100)] = 20) -> Any:
        return JSONUTF8({"name": name, "enterprises": search_by_name(store.query, name, limit)})

    @app.get("/enterprises/{uscc}/restrictions", summary="联合惩戒核查：本部门是否应当限制")
    def restrictions(uscc: str, holder: Annotated[Holder, Depends(caller)],
                     department: Annotated[str | None, Query(description="落实限制的部门（数据源代码）")] = None,
                     purpose: Purpose = None) -> Any:
        from creditlake.analytics.discipline import DEPARTMENTS, restriction_grounds

        if holder.role == "public":
            raise HTTPException(403, "联合惩戒核查仅向政府部门和市场监管部门开放")
        asked = department or holder.department
        if holder.role == "department" and asked != holder.department:
            raise HTTPException(403, f"本令牌只能核查本部门（{holder.department}）应落实的限制")
        if asked not in DEPARTMENTS:
            raise HTTPException(400, f"部门“{asked}”不落实联合惩戒限制（可用：{'、'.join(DEPARTMENTS)}）")
        why = purpose_of(holder, purpose)
        try:
            answer = restriction_grounds(store.query, uscc, asked)
        except BadCode as exc:
            raise HTTPException(400, str(exc)) from None
        looked_up(holder, answer.enterprise_id, f"联合惩戒核查：{why}", ["restrictions"])
        return JSONUTF8({**answer.as_dict(), "department_name": DEPARTMENTS[asked]})

    @app.get("/health", include_in_schema=False)
    def health() -> Any:
        return {"status": "ok"}

    return app


def app_from_settings() -> FastAPI:
    """The service of the home in CREDITLAKE_HOME (uvicorn's factory: each worker builds its own)."""
    return create_app()
