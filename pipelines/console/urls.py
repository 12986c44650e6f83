"""URLs. Office pages live under /office/ (office only), the submitter's under /submit/, the
leaders' under /reports/; /returns/ is a return's detail for the office and its own unit."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from pipelines.console.accounts import views as accounts
from pipelines.console.board import views as board
from pipelines.console.leaders import views as leaders
from pipelines.console.uploads import views as uploads

uploads_urls = (
    [
        path("", uploads.index, name="index"),
        path("upload/", uploads.upload, name="upload"),
        path("uploads/<str:upload_id>/status/", uploads.status, name="status"),
        path("uploads/<str:upload_id>/", uploads.fragment, name="fragment"),
        path("letters/<str:quarter>/<str:name>", uploads.letter, name="letter"),
        path("template/", uploads.template, name="template"),
    ],
    "uploads",
)

board_urls = (
    [
        path("", board.index, name="index"),
        path("<str:quarter>/", board.index, name="quarter"),
        path("<str:quarter>/refresh/", board.refresh, name="refresh"),
        path("<str:quarter>/files/<str:name>", board.output, name="output"),
        path("<str:quarter>/letters.zip", board.letters_zip, name="letters_zip"),
    ],
    "board",
)

returns_urls = (
    [
        path("<str:quarter>/<str:unit>/<str:form>/", board.detail, name="detail"),
        path("versions/<int:submission_id>/", uploads.version_file, name="version_file"),
    ],
    "returns",
)

leaders_urls = (
    [
        path("", leaders.index, name="index"),
        path("<str:quarter>/", leaders.report, name="report"),
    ],
    "leaders",
)

urlpatterns = [
    path("", accounts.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="accounts/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("submit/", include(uploads_urls)),
    path("office/", include(board_urls)),
    path("returns/", include(returns_urls)),
    path("reports/", include(leaders_urls)),
]
